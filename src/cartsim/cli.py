"""The ``cartsim`` command line (typer): parses options, shows progress, writes run folders."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from cartsim.evaluate.kpis import check_metric
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.report import console as show
from cartsim.report.results import run_manifest, write_files
from cartsim.runs import folders, studies
from cartsim.runs.executors import default_workers

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
    show.print_summary(model, frames["kpis"])
    if "incremental" in frames:
        show.print_incremental(frames["incremental"], model)
    show.print_severity(frames, model)
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
) -> None:
    """Probabilistic sensitivity analysis: psa.parquet, ceac.parquet, evpi.parquet."""
    source, model = _load(scenario, set_, seed, None)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    with _analysis(out, model, "psa", options) as run:
        frames = studies.psa(source, model, iterations, replications, run)
        _finish(run, source, model, started, frames, analysis="psa", iterations=iterations)
    out_console.print(f"results in {run.folder}")
    show.print_psa(frames, model)


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
) -> None:
    """One-way sensitivity of incremental net benefit over every parameter range: dsa.parquet."""
    source, model = _load(scenario, set_, seed, replications)
    studies.check_dsa(source, model)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    with _analysis(out, model, "dsa", options) as run:
        table = studies.dsa(source, model, run)
        _finish(run, source, model, started, {"dsa": table}, analysis="dsa")
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
    out: OutOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
    chunk_size: ChunkOpt = 20,
) -> None:
    """Capacity sweep over a full grid of settings: sweep.parquet and the cheapest that works."""
    if not vary:
        raise CartsimError("give at least one --vary dotted.path=v1,v2", field="--vary")
    source, model = _load(scenario, set_, seed, replications)
    grid = studies.sweep_settings(vary, source, model)
    scenarios = studies.sweep_scenarios(scenario, _overrides(set_, seed, replications), grid)
    started = dt.datetime.now()
    options = (workers, scheduler, resume, overwrite, chunk_size)
    with _analysis(out, model, "sweep", options) as run:
        table = studies.sweep(source, scenarios, grid, run)
        _finish(run, source, model, started, {"sweep": table}, analysis="sweep", grid=grid)
    out_console.print(f"results in {run.folder}")
    show.print_sweep(studies.best_setting(table, model), model)


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
    out_console.print(f"results in {folder}")
    title = f"{model.name}: external validation, {model.run.replications} replications"
    out_console.print(validation_text_table(table, f"{title} (95% t-intervals)"))


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
