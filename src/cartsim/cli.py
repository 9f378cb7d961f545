"""The ``cartsim`` command line (typer): parses options, calls the library, prints summaries."""

from __future__ import annotations

import datetime as dt
import json
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
from rich.table import Table

from cartsim.decide.head_to_head import incremental_results
from cartsim.evaluate.kpis import check_metric
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report.results import manifest, prepare_out_dir, run_id, write_files
from cartsim.runs import studies
from cartsim.runs.analyses import cheapest_meeting_target, parse_vary, sweep_grid
from cartsim.runs.executors import default_workers
from cartsim.runs.experiment import Tables, run_replications

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate CAR-T, aHSCT and standard-of-care pathways: capacity, costs and value.",
)
console = Console(stderr=True)
out_console = Console()
DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
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
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace a run already in --out")
    ] = False,
) -> None:
    """Simulate a scenario and write its tables (and report) to a run folder."""
    source, model = _load(scenario, set_, seed, replications)
    started = dt.datetime.now()
    folder = out or Path("outputs") / model.name / run_id(started, model.run.seed)
    if (folder / "manifest.json").exists() and not overwrite:
        raise CartsimError(
            "already holds a run: add --overwrite to replace it, or use another --out",
            file=str(folder),
        )
    prepare_out_dir(folder)
    reps = model.run.replications
    with _progress() as progress:
        task = progress.add_task(f"simulating {model.name}", total=reps)
        tables = run_replications(
            model,
            reps,
            workers=workers or default_workers(),
            events=events,
            on_done=lambda _rep: progress.advance(task),
        )
    frames = _write_run(folder, source, model, tables, started)
    if report:
        _write_report(folder)
    else:
        (folder / "report.html").unlink(missing_ok=True)  # never a report of another run
    print_summary(model, frames["kpis"])
    if "incremental" in frames:
        print_incremental(frames["incremental"], model)
    out_console.print(f"results in {folder}")


def _write_run(
    folder: Path,
    source: loading.ScenarioSource,
    model: Scenario,
    tables: Tables,
    started: dt.datetime,
) -> dict[str, pd.DataFrame]:
    """Write the run's tables and manifest; return the tables written."""
    from cartsim.decide.stats import summarise

    kpis = summarise(tables.metrics)
    frames = {
        "patients": tables.patients,
        "resources": tables.resources,
        "kpis": kpis,
        "metrics": tables.metrics,
    }
    if len(tables.events):
        frames["events"] = tables.events
    if len(tables.budget):
        frames["budget"] = tables.budget
    if model.economics is not None and model.comparison == "head_to_head" and len(model.arms) > 1:
        economics, patients = model.economics, tables.patients
        settled = patients[patients["arrival_day"] >= model.run.warmup_days]  # as the KPIs
        frames["incremental"] = incremental_results(
            settled, economics.wtp_per_qaly, economics.reference_arm
        )
    text = manifest(
        model.model_dump(mode="json"),
        source.digests(),
        model.run.seed,
        model.run.replications,
        started,
        dt.datetime.now(),
        parameters_used=source.used_parameters(),
    )
    write_files(folder, frames, {"manifest.json": text}, replace=True)
    return frames


def _write_report(folder: Path) -> None:
    """Write report.html; the tables are saved already, so a failure here is only a warning."""
    from cartsim.report.html import write_report

    try:
        write_report(folder)
    except Exception as exc:  # noqa: BLE001 - the run's results must survive a report problem
        console.print(f"warning: report.html not written: {exc}", markup=False)


def print_summary(model: Scenario, kpis: pd.DataFrame) -> None:
    """Mean wait per stage, vein-to-vein, utilisation, and deaths and dropouts while waiting."""
    run = model.run
    years = (run.arrival_window_days - run.warmup_days) / DAYS_PER_YEAR
    money = f"{model.currency} {model.price_year}"
    for arm, group in kpis.groupby("arm", observed=True, sort=False):
        values = group.set_index("metric")
        if "referred" in values.index and values.loc["referred", "mean"] == 0:
            continue  # an arm the referral policy sends nobody to
        title = (
            f"{model.name}: arm {arm} — patients referred over {years:.1f} years after the "
            f"warm-up; mean of {run.replications} replications (money in {money})"
        )
        table = Table(title=title, title_justify="left")
        table.add_column("measure")
        table.add_column("mean", justify="right")
        table.add_column("95% CI", justify="right")
        for metric, label in summary_rows(list(values.index)):
            row = values.loc[metric]
            if pd.isna(row["mean"]):
                continue  # e.g. vein-to-vein in an arm without apheresis
            low = max(0.0, row["ci_low"])  # every measure here is >= 0
            ci = f"{low:,.2f} – {row['ci_high']:,.2f}" if pd.notna(row["ci_low"]) else "—"
            table.add_row(label, f"{row['mean']:,.2f}", ci)
        out_console.print(table)


def print_incremental(table: pd.DataFrame, model: Scenario) -> None:
    """The fully incremental analysis of all patients: costs, QALYs, ICERs and dominance."""
    rows = table[(table["population"] == "all") & (table["analysis"] == "fully incremental")]
    money = f"{model.currency} {model.price_year}"
    out = Table(title=f"{model.name}: incremental analysis, all patients ({money})")
    for column in ("arm", "cost", "QALYs", "compared with", "ICER per QALY", "status"):
        out.add_column(column, justify="left" if column in ("arm", "status") else "right")
    for _, r in rows.iterrows():
        icer = f"{r['icer']:,.0f}" if pd.notna(r["icer"]) else "—"
        comparator = str(r["comparator"]) if pd.notna(r["comparator"]) else "—"
        out.add_row(
            str(r["arm"]), f"{r['cost']:,.0f}", f"{r['qaly']:.2f}", comparator, icer, r["status"]
        )
    out_console.print(out)


def summary_rows(metrics: list[str]) -> list[tuple[str, str]]:
    """Which KPIs the summary shows, in order, with a label that carries the unit."""
    rows = [("referred", "patients referred"), ("treated", "patients treated")]
    rows += [
        (m, f"wait for {m.removeprefix('mean_wait_').removesuffix('_days')} (days)")
        for m in metrics
        if m.startswith("mean_wait_")
    ]
    rows += [
        ("median_vein_to_vein_days", "vein-to-vein, median (days)"),
        ("p90_vein_to_vein_days", "vein-to-vein, 90th centile (days)"),
        ("mean_referral_to_treatment_days", "referral to treatment, mean (days)"),
    ]
    rows += [
        (m, f"utilisation of {m.removeprefix('utilisation_')} (share)")
        for m in metrics
        if m.startswith("utilisation_")
    ]
    rows += [
        ("died_waiting", "died while waiting (patients)"),
        ("dropped_out", "dropped out while waiting (patients)"),
        ("failed", "product failed, untreated (patients)"),
        ("mean_cost_total", "cost per referred patient (discounted)"),
        ("mean_qaly_total", "QALYs per referred patient (discounted)"),
    ]
    return [(m, label) for m, label in rows if m in metrics]


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


def _analysis_folder(out: Path | None, model: Scenario, kind: str) -> Path:
    started = dt.datetime.now()
    return prepare_out_dir(
        out or Path("outputs") / model.name / f"{kind}-{run_id(started, model.run.seed)}"
    )


@contextmanager
def _execution(
    folder: Path, label: str, workers: int | None, scheduler: str | None, resume: bool, chunk: int
) -> Iterator[studies.Execution]:
    """Execution options with a progress bar over work units."""
    with _progress() as progress:
        task = progress.add_task(label, total=None)
        yield studies.Execution(
            folder=folder,
            workers=workers or default_workers(),
            scheduler=scheduler,
            resume=resume,
            chunk_size=chunk,
            started=lambda total: progress.update(task, total=total),
            on_unit=lambda: progress.advance(task),
        )


def _finish(
    folder: Path,
    source: loading.ScenarioSource,
    model: Scenario,
    started: dt.datetime,
    frames: dict[str, pd.DataFrame],
    **extra: Any,
) -> None:
    text = manifest(
        model.model_dump(mode="json"),
        source.digests(),
        model.run.seed,
        model.run.replications,
        started,
        dt.datetime.now(),
        parameters_used=source.used_parameters(),
        **extra,
    )
    write_files(folder, frames, {"manifest.json": text})
    _write_report(folder)
    out_console.print(f"results in {folder}")


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
    chunk_size: ChunkOpt = 50,
) -> None:
    """Probabilistic sensitivity analysis: psa.parquet, ceac.parquet, evpi.parquet."""
    source, model = _load(scenario, set_, seed, None)
    started, folder = dt.datetime.now(), _analysis_folder(out, model, "psa")
    label = f"PSA of {model.name}"
    with _execution(folder, label, workers, scheduler, resume, chunk_size) as run:
        frames = studies.psa(source, model, iterations, replications, run)
    _finish(folder, source, model, started, frames, analysis="psa", iterations=iterations)
    if "ceac" in frames and model.economics is not None:
        wtp = model.economics.wtp_per_qaly
        ceac, evpi = frames["ceac"], frames["evpi"]
        at = ceac["wtp"].iloc[(ceac["wtp"] - wtp).abs().argmin()]
        for _, row in ceac[ceac["wtp"] == at].iterrows():
            chance = row["probability_cost_effective"]
            out_console.print(f"P(cost-effective at {at:,.0f} per QALY) {row['arm']}: {chance:.2f}")
        value = evpi.loc[evpi["wtp"] == at, "evpi_per_patient"].iloc[0]
        money = f"{model.currency} {model.price_year}"
        years = model.economics.evpi_population_years
        population = evpi.loc[evpi["wtp"] == at, "evpi_population"].iloc[0]
        out_console.print(
            f"EVPI at {at:,.0f} {money} per QALY: {value:,.0f} per patient, "
            f"{population:,.0f} for {years:g} years of referrals (undiscounted)"
        )


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
    chunk_size: ChunkOpt = 50,
) -> None:
    """One-way sensitivity of incremental net benefit over every parameter range: dsa.parquet."""
    source, model = _load(scenario, set_, seed, replications)
    started, folder = dt.datetime.now(), _analysis_folder(out, model, "dsa")
    label = f"one-way sensitivity of {model.name}"
    with _execution(folder, label, workers, scheduler, resume, chunk_size) as run:
        table = studies.dsa(source, model, run)
    _finish(folder, source, model, started, {"dsa": table}, analysis="dsa")
    money = f"{model.currency} {model.price_year}"
    for comparison, rows in table.groupby("comparison", sort=False) if len(table) else []:
        tornado = Table(title=f"{comparison}: incremental net benefit ({money}), widest 5")
        for column in ("parameter", "at low value", "at high value"):
            tornado.add_column(column, justify="left" if column == "parameter" else "right")
        for _, r in rows.head(5).iterrows():
            tornado.add_row(str(r["parameter"]), f"{r['inmb_low']:,.0f}", f"{r['inmb_high']:,.0f}")
        out_console.print(tornado)


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
    chunk_size: ChunkOpt = 20,
) -> None:
    """Capacity sweep over a full grid of settings: sweep.parquet and the cheapest that works."""
    if not vary:
        raise CartsimError("give at least one --vary dotted.path=v1,v2", field="--vary")
    try:
        grid = sweep_grid(parse_vary(vary))
    except ValueError as exc:
        raise CartsimError(str(exc), field="--vary") from None
    source, model = _load(scenario, set_, seed, replications)
    scenarios = studies.sweep_scenarios(scenario, _overrides(set_, seed, replications), grid)
    if model.target is not None:
        check_metric(model.target.metric, model, source.path)
    started, folder = dt.datetime.now(), _analysis_folder(out, model, "sweep")
    label = f"sweep of {model.name}"
    with _execution(folder, label, workers, scheduler, resume, chunk_size) as run:
        table = studies.sweep(source, scenarios, grid, run)
    _finish(folder, source, model, started, {"sweep": table}, analysis="sweep", grid=grid)
    target = model.target
    if target is not None:
        best = cheapest_meeting_target(table, model)
        if best is None:
            out_console.print(f"no setting meets the target {target.metric} for {target.arm}")
        else:
            out_console.print(
                f"cheapest setting meeting the target: {best['setting']} "
                f"({target.metric} = {best['mean']:.1f})"
            )


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
) -> None:
    """Compare the model with published figures its inputs were not taken from."""
    from cartsim.decide.validation import load_targets
    from cartsim.report.validation import validation_text_table
    from cartsim.runs.validation import run_validation

    found = load_targets(targets)
    source, model = _load(scenario, set_, seed, replications)
    started, folder = dt.datetime.now(), _analysis_folder(out, model, "validate")
    if (folder / "manifest.json").exists():
        raise CartsimError("already holds a run: use another --out", str(folder), "--out")
    with _progress() as progress:
        task = progress.add_task(f"validating {model.name}", total=model.run.replications)
        _, table = run_validation(
            model, found, workers or default_workers(), lambda _r: progress.advance(task)
        )
    _finish(folder, source, model, started, {"validation": table}, analysis="validate")
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
