"""The ``cartsim`` command line (typer): parses options, shows progress, writes run folders."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.report.export import ExportKind

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress


class _Lazy:
    """A module imported on first use: commands that do not need it start faster."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(import_module(self._name), attr)


show: Any = _Lazy("cartsim.report.console")
studies: Any = _Lazy("cartsim.runs.studies")
folders: Any = _Lazy("cartsim.runs.folders")
_results: Any = _Lazy("cartsim.report.results")
_kpis: Any = _Lazy("cartsim.evaluate.kpis")
_executors: Any = _Lazy("cartsim.runs.executors")
_export: Any = _Lazy("cartsim.report.export")


def check_metric(*args: Any) -> Any:
    return _kpis.check_metric(*args)


def run_manifest(*args: Any, **kwargs: Any) -> Any:
    return _results.run_manifest(*args, **kwargs)


def write_files(*args: Any, **kwargs: Any) -> Any:
    return _results.write_files(*args, **kwargs)


def default_workers() -> int:
    return int(_executors.default_workers())


def export_tables(*args: Any) -> Any:
    return _export.export_tables(*args)


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate CAR-T, aHSCT and standard-of-care pathways: capacity, costs and value.",
)
console = Console(stderr=True)
out_console = show.console
DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT)
F = TypeVar("F", bound=Callable[..., Any])

ScenarioArg = Annotated[Path, typer.Argument(help="scenario YAML file")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="run folder (default outputs/<name>/<run-id>)")
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="master seed (default: scenario)")]
RepsOpt = Annotated[
    int | None, typer.Option("--replications", min=1, help="replications (default: scenario)")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a field: dotted.path=value (repeatable)"),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="local processes (default: all cores)")
]
ExportOpt = Annotated[
    ExportKind | None, typer.Option(help="also write every table as CSV files or one workbook")
]
MaxRepsOpt = Annotated[
    int | None, typer.Option(min=1, help="replications an unclear setting may grow to")
]
ConfidenceOpt = Annotated[float, typer.Option(min=0.5, max=0.999, help="level of target CIs")]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="replace a run already in --out (the whole folder)")
]


def user_errors(func: F) -> F:
    """Turn a user mistake into one line on stderr and exit code 2 (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CartsimError as exc:
            typer.echo(f"error: {exc.line()}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _overrides(overrides: list[str] | None, seed: int | None, reps: int | None) -> list[str]:
    """``--set`` assignments plus those of ``--seed`` and ``--replications``."""
    extra = list(overrides or [])
    if seed is not None:
        extra.append(f"run.seed={seed}")
    if reps is not None:
        extra.append(f"run.replications={reps}")
    return extra


def _load(
    scenario: Path, overrides: list[str] | None, seed: int | None, reps: int | None
) -> tuple[loading.ScenarioSource, Scenario]:
    source = loading.load(scenario, _overrides(overrides, seed, reps))
    return source, source.build()


def _progress() -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@app.command()
@user_errors
def run(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: OutOpt = None,
    seed: SeedOpt = None,
    replications: RepsOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    events: Annotated[bool, typer.Option(help="write events.parquet (the full event log)")] = True,
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
    overwrite: OverwriteOpt = False,
    export: ExportOpt = None,
) -> None:
    """Simulate a scenario and write its tables (and report) to a run folder."""
    source, model = _load(scenario, set_, seed, replications)
    started = dt.datetime.now()
    folder = out or folders.default_folder(model.name, model.run.seed, now=started)
    try:
        with folders.new_run(folder, overwrite) as scratch, _progress() as progress:
            task = progress.add_task(f"simulating {model.name}", total=model.run.replications)
            frames = studies.run(
                model,
                workers=workers or default_workers(),
                events=events,
                on_done=lambda _rep: progress.advance(task),
            )
            write_files(scratch, frames, run_manifest(source, model, started))
            if report:
                _write_report(scratch)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: {folder} left as it was", err=True)
        raise typer.Exit(INTERRUPTED) from None
    export_tables(folder, export, console.print, out_console.print)
    show.print_summary(model, frames["kpis"])
    if "kpis_by_year" in frames:
        show.print_worst_years(frames["kpis_by_year"])
    if "incremental" in frames:
        show.print_incremental(frames["incremental"], model)
    out_console.print(f"results in {folder}")


def _write_report(folder: Path) -> None:
    """Write report.html; the tables are saved already, so a failure here is only a warning."""
    from cartsim.report.html import write_report

    try:
        write_report(folder)
    except Exception as exc:  # noqa: BLE001 - the run's results must survive a report problem
        console.print(f"warning: report.html not written: {exc}", markup=False)


@app.command()
@user_errors
def check(
    scenario: ScenarioArg,
    set_: SetOpt = None,
) -> None:
    """Validate a scenario file without running it."""
    from cartsim.inputs.budget import estimated_bytes

    source, model = _load(scenario, set_, None, None)
    if model.target is not None:
        check_metric(model.target.metric, model, source.path)
    out_console.print(
        f"ok: {scenario} — scenario {model.name!r}, {len(model.arms)} arm(s), "
        f"{len(model.resources)} resource(s), {len(source.parameters)} parameter(s), "
        f"about {estimated_bytes(model) / 2**30:.2g} GiB of memory to run"
    )


@app.command()
@user_errors
def report(run_dir: Annotated[Path, typer.Argument(help="a run folder")]) -> None:
    """Rebuild report.html from a run folder's saved tables (PSA, DSA and sweeps included)."""
    from cartsim.report.html import write_report
    from cartsim.report.results import read_manifest

    read_manifest(run_dir)  # a clear error for a folder that is not a run
    try:
        path = write_report(run_dir)
    except (OSError, ValueError) as exc:  # unreadable or damaged tables
        raise CartsimError(f"cannot read the run's tables: {exc}", file=str(run_dir)) from None
    out_console.print(f"report: {path}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")


ItersOpt = Annotated[int, typer.Option("--iterations", min=1, help="parameter draws")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address, or 'local' for a LocalCluster"),
]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="complete an interrupted run in --out")]
ChunkOpt = Annotated[int, typer.Option("--chunk-size", min=1, help="work units per saved chunk")]


def resume_command(argv: list[str], folder: Path) -> str:
    """The command that completes an interrupted analysis: ``argv`` with ``--out`` and
    ``--resume`` (and without ``--overwrite``)."""
    args = [a for a in argv if a != "--overwrite"]
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(folder)]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["cartsim", *args])


@contextmanager
def _analysis(
    out: Path | None,
    model: Scenario,
    kind: str,
    options: tuple[int | None, str | None, bool, bool, int],
) -> Iterator[studies.Execution]:
    """Claim the folder of an analysis, show progress over its work units, and on Ctrl-C say
    how to complete it. ``options``: workers, scheduler, resume, overwrite, chunk size."""
    workers, scheduler, resume, overwrite, chunk = options
    target = out or folders.default_folder(model.name, model.run.seed, kind)
    label = {"psa": "PSA", "dsa": "one-way sensitivity", "sweep": "sweep"}[kind]
    try:
        with folders.analysis(target, kind, resume, overwrite) as folder, _progress() as progress:
            task = progress.add_task(f"{label} of {model.name}", total=None)
            yield studies.Execution(
                folder=folder,
                workers=workers or default_workers(),
                scheduler=scheduler,
                resume=resume,
                chunk_size=chunk,
                started=lambda total: progress.update(task, total=total),
                on_unit=lambda: progress.advance(task),
            )
    except KeyboardInterrupt:
        typer.echo(f"interrupted: {resume_command(sys.argv[1:], target)}", err=True)
        raise typer.Exit(INTERRUPTED) from None


def _finish(
    run: studies.Execution,
    source: loading.ScenarioSource,
    model: Scenario,
    started: dt.datetime,
    frames: dict[str, pd.DataFrame],
    **extra: Any,
) -> None:
    write_files(run.folder, frames, run_manifest(source, model, started, **extra))
    _write_report(run.folder)


@app.command()
@user_errors
def psa(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    iterations: ItersOpt = 1000,
    replications: Annotated[int, typer.Option(min=1, help="replications per draw")] = 1,
    out: OutOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
    chunk_size: ChunkOpt = 50,
    export: ExportOpt = None,
    evppi_: Annotated[
        bool, typer.Option("--evppi", help="then EVPPI of every parameter: evppi.parquet")
    ] = False,
) -> None:
    """Probabilistic sensitivity analysis: psa.parquet, ceac.parquet, evpi.parquet."""
    source, model = _load(scenario, set_, seed, None)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    with _analysis(out, model, "psa", options) as run:
        frames = studies.psa(source, model, iterations, replications, run)
        _finish(run, source, model, started, frames, analysis="psa", iterations=iterations)
    export_tables(run.folder, export, console.print, out_console.print)
    out_console.print(f"results in {run.folder}")
    show.print_psa(frames, model)
    show.print_noise_guidance(frames.get("psa_noise"))
    if evppi_:
        _evppi_of_folder(run.folder, None, [], None)


@app.command()
@user_errors
def dsa(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    replications: Annotated[
        int | None, typer.Option(min=1, help="replications per setting")
    ] = None,
    out: OutOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
    chunk_size: ChunkOpt = 50,
    export: ExportOpt = None,
) -> None:
    """One-way sensitivity of incremental net benefit over every parameter range: dsa.parquet."""
    source, model = _load(scenario, set_, seed, replications)
    studies.check_dsa(source, model)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    with _analysis(out, model, "dsa", options) as run:
        table = studies.dsa(source, model, run)
        _finish(run, source, model, started, {"dsa": table}, analysis="dsa")
    export_tables(run.folder, export, console.print, out_console.print)
    out_console.print(f"results in {run.folder}")
    show.print_dsa(table, model)


@app.command()
@user_errors
def sweep(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    vary: Annotated[
        list[str], typer.Option("--vary", help="dotted.path=v1,v2,... (repeatable)")
    ] = [],  # noqa: B006
    replications: RepsOpt = None,
    max_replications: MaxRepsOpt = None,
    confidence: ConfidenceOpt = 0.95,
    out: OutOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
    chunk_size: ChunkOpt = 20,
    export: ExportOpt = None,
) -> None:
    """Capacity sweep over a grid: KPIs, verdicts on the targets (with CIs), the setting chosen."""
    source, model = _load(scenario, set_, seed, replications)
    grid = studies.sweep_settings(vary, source, model)
    scenarios = studies.sweep_scenarios(scenario, _overrides(set_, seed, replications), grid)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    decision = studies.Decision(confidence, max_replications)
    with _analysis(out, model, "sweep", options) as run:
        frames = studies.sweep(source, scenarios, grid, run, decision)
        _finish(run, source, model, started, frames, analysis="sweep", grid=grid,
                confidence=confidence, max_replications=max_replications)  # fmt: skip
    export_tables(run.folder, export, console.print, out_console.print)
    out_console.print(f"results in {run.folder}")
    show.print_sweep(frames, model, studies.unpriced(grid, model), confidence)


@app.command()
@user_errors
def validate(
    scenario: ScenarioArg = Path("scenarios/cart_vs_asct.yaml"),
    replications: RepsOpt = None,
    seed: SeedOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="targets YAML (default: the shipped file)")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Compare the model with published figures its inputs were not taken from."""
    from cartsim.decide.validation import load_targets
    from cartsim.report.validation import validation_text_table
    from cartsim.runs.validation import run_validation

    found = load_targets(targets)
    source, model = _load(scenario, set_, seed, replications)
    started = dt.datetime.now()
    folder = out or folders.default_folder(model.name, model.run.seed, "validate")
    with folders.new_run(folder, overwrite) as scratch, _progress() as progress:
        task = progress.add_task(f"validating {model.name}", total=model.run.replications)
        _, table = run_validation(
            model, found, workers or default_workers(), lambda _r: progress.advance(task)
        )
        frames = {"validation": table}
        write_files(scratch, frames, run_manifest(source, model, started, analysis="validate"))
        _write_report(scratch)
    out_console.print(f"results in {folder}")
    title = f"{model.name}: external validation, {model.run.replications} replications"
    out_console.print(validation_text_table(table, f"{title} (95% t-intervals)"))


# ---- decision analyses: value of further information and thresholds ------------------------


def _evppi_of_folder(
    run_dir: Path, wtp: float | None, groups: list[str], bootstrap: int | None
) -> None:
    """EVPPI of a PSA folder into evppi.parquet; the report rebuilt; the top rows printed."""
    from cartsim.report.information import evppi_of_folder

    table, money = evppi_of_folder(run_dir, wtp, groups, bootstrap)
    _write_report(run_dir)
    show.print_evppi(table, money)
    out_console.print(f"EVPPI in {run_dir / 'evppi.parquet'}")


@app.command()
@user_errors
def evppi(
    run_dir: Annotated[Path, typer.Argument(help="a PSA run folder")],
    wtp: Annotated[
        float | None, typer.Option("--wtp", min=0, help="money per QALY (default: scenario)")
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="NAME=p1,p2: a group (repeatable)")
    ] = None,
    bootstrap: Annotated[
        int | None,
        typer.Option("--bootstrap", min=0, help="resamples for the standard error (200)"),
    ] = None,
) -> None:
    """Value of further information on each parameter and group of a PSA: evppi.parquet."""
    _evppi_of_folder(run_dir, wtp, list(group or []), bootstrap)


def _floats(text: str | None, option: str) -> list[float]:
    try:
        values = [float(v) for v in (text or "").split(",") if v.strip()]
    except ValueError:
        raise CartsimError(f"expected numbers v1,v2,..., got {text!r}", field=option) from None
    if not values:
        raise CartsimError("give at least one value", field=option)
    return values


@app.command()
@user_errors
def threshold(
    scenario: ScenarioArg,
    parameter: Annotated[str, typer.Option("--parameter", help="parameter to vary")],
    arm: Annotated[str, typer.Option("--arm", help="arm whose parameter it is")],
    by: Annotated[
        str | None, typer.Option("--by", help="two-way: 'wtp' or another parameter")
    ] = None,
    values: Annotated[str | None, typer.Option("--values", help="v1,v2,.. of --parameter")] = None,
    by_values: Annotated[str | None, typer.Option("--by-values", help="v1,v2,.. of --by")] = None,
    replications: RepsOpt = None,
    out: OutOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Value of a parameter at which each comparison breaks even: threshold.parquet."""
    from cartsim.runs.threshold import ThresholdStudy, threshold_table, two_way_grid

    source, model = _load(scenario, set_, seed, replications)
    study = ThresholdStudy(parameter, arm, model.run.replications, workers or default_workers())
    grid_values = None
    if by is not None:
        if by != "wtp" and by not in source.parameters:
            raise CartsimError(f"unknown parameter {by!r}", file=str(scenario), field="--by")
        grid_values = (_floats(values, "--values"), _floats(by_values, "--by-values"))
    started = dt.datetime.now()
    folder = out or folders.default_folder(model.name, model.run.seed, "threshold")
    with folders.new_run(folder, overwrite) as scratch:
        frames = {"threshold": threshold_table(source, study)}
        if grid_values is not None and by is not None:
            frames["threshold_grid"] = two_way_grid(source, study, *grid_values[:1], by,
                                                    grid_values[1])  # fmt: skip
        extra = {"analysis": "threshold", "parameter": parameter, "arm": arm, "by": by}
        write_files(scratch, frames, run_manifest(source, model, started, **extra))
        _write_report(scratch)
    out_console.print(f"results in {folder}")
    show.print_threshold(frames["threshold"], f"{model.currency} {model.price_year}")


def main() -> None:
    """Console entry point: usage mistakes too end in one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = 1
    except typer.TyperException as exc:  # a usage mistake: bad option or value
        format_message = getattr(exc, "format_message", None)
        message = format_message() if format_message else str(exc)
        typer.echo(f"error: {' '.join(str(message).split())}", err=True)
        code = 2
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
