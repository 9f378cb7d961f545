"""The ``cartsim`` command line (typer): parses options, calls the library, prints summaries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cartsim import loading
from cartsim.analyses import (
    cheapest_meeting_target,
    dsa_unit,
    dsa_variants,
    finish_dsa,
    finish_psa,
    finish_sweep,
    parse_vary,
    psa_unit,
    same_model,
    sweep_grid,
    sweep_unit,
)
from cartsim.errors import CartsimError
from cartsim.executors import default_workers
from cartsim.experiment import Tables, run_replications
from cartsim.incremental import incremental_results
from cartsim.jobs import run_chunked
from cartsim.results import manifest, prepare_out_dir, run_id, write_files
from cartsim.scenario import Scenario

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


def _load(scenario: Path, overrides: list[str] | None, seed: int | None, reps: int | None):
    extra = list(overrides or [])
    if seed is not None:
        extra.append(f"run.seed={seed}")
    if reps is not None:
        extra.append(f"run.replications={reps}")
    source = loading.load(scenario, extra)
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
) -> None:
    """Simulate a scenario and write its tables (and report) to a run folder."""
    source, model = _load(scenario, set_, seed, replications)
    started = dt.datetime.now()
    folder = out or Path("outputs") / model.name / run_id(started, model.run.seed)
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
    summary = _write_run(folder, source, model, tables, started)
    if report:
        _write_report(folder)
    print_summary(model, summary)
    out_console.print(f"results in {folder}")


def _write_run(
    folder: Path,
    source: loading.ScenarioSource,
    model: Scenario,
    tables: Tables,
    started: dt.datetime,
) -> pd.DataFrame:
    from cartsim.kpis import summarise

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
        economics = model.economics
        frames["incremental"] = incremental_results(
            tables.patients, economics.wtp_per_qaly, economics.reference_arm
        )
    text = manifest(
        model.model_dump(mode="json"),
        source.digests(),
        model.run.seed,
        model.run.replications,
        started,
        dt.datetime.now(),
    )
    write_files(folder, frames, {"manifest.json": text})
    return kpis


def _write_report(folder: Path) -> None:
    """Write report.html; the tables are saved already, so a failure here is only a warning."""
    from cartsim.report import write_report

    try:
        write_report(folder)
    except Exception as exc:  # noqa: BLE001 - the run's results must survive a report problem
        console.print(f"warning: report.html not written: {exc}", markup=False)


def print_summary(model: Scenario, kpis: pd.DataFrame) -> None:
    """Mean wait per stage, vein-to-vein, utilisation, and deaths and dropouts while waiting."""
    for arm, group in kpis.groupby("arm", observed=True, sort=False):
        values = group.set_index("metric")
        table = Table(title=f"{model.name}: arm {arm}", title_justify="left")
        table.add_column("measure")
        table.add_column("mean", justify="right")
        table.add_column("95% CI", justify="right")
        for metric, label in summary_rows(list(values.index)):
            row = values.loc[metric]
            ci = f"{row['ci_low']:.2f} – {row['ci_high']:.2f}" if pd.notna(row["ci_low"]) else "—"
            table.add_row(label, f"{row['mean']:.2f}", ci)
        out_console.print(table)


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
        ("mean_cost_total", "cost per patient (EUR, discounted)"),
        ("mean_qaly_total", "QALYs per patient (discounted)"),
    ]
    return [(m, label) for m, label in rows if m in metrics]


@app.command()
@user_errors
def check(
    scenario: ScenarioArg,
    set_: SetOpt = None,
) -> None:
    """Validate a scenario file without running it."""
    source, model = _load(scenario, set_, None, None)
    out_console.print(
        f"ok: {scenario} — scenario {model.name!r}, {len(model.arms)} arm(s), "
        f"{len(model.resources)} resource(s), {len(source.parameters)} parameter(s)"
    )


@app.command()
@user_errors
def report(run_dir: Annotated[Path, typer.Argument(help="a run folder")]) -> None:
    """Rebuild report.html from a run folder's saved tables (PSA, DSA and sweeps included)."""
    from cartsim.report import write_report
    from cartsim.results import read_manifest

    read_manifest(run_dir)  # a clear error for a folder that is not a run
    out_console.print(f"report: {write_report(run_dir)}")


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


def _plan(source: loading.ScenarioSource, **options: Any) -> dict[str, Any]:
    digest = hashlib.sha256(
        json.dumps(source.raw, sort_keys=True, default=str).encode()
    ).hexdigest()
    return {"scenario_sha256": digest, **options}


def _run_analysis(
    folder: Path,
    name: str,
    plan: dict[str, Any],
    func: Callable[..., pd.DataFrame],
    units: list[tuple[Any, ...]],
    chunk: int,
    workers: int | None,
    scheduler: str | None,
    resume: bool,
    label: str,
    shared: tuple[Any, ...] = (),
) -> pd.DataFrame:
    with _progress() as progress:
        task = progress.add_task(label, total=len(units))
        return run_chunked(
            folder,
            name,
            plan,
            func,
            units,
            chunk,
            workers or default_workers(),
            scheduler,
            resume,
            on_unit=lambda: progress.advance(task),
            shared=shared,
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
    started = dt.datetime.now()
    folder = _analysis_folder(out, model, "psa")
    units = [(i, r) for i in range(iterations) for r in range(replications)]
    plan = _plan(source, analysis="psa", iterations=iterations, replications=replications)
    results = _run_analysis(
        folder,
        "psa",
        plan,
        psa_unit,
        units,
        chunk_size,
        workers,
        scheduler,
        resume,
        f"PSA of {model.name}",
        shared=(source,),
    )
    frames = finish_psa(results, model)
    _finish(folder, source, model, started, frames, analysis="psa", iterations=iterations)
    if "evpi" in frames:
        wtp = model.economics.wtp_per_qaly if model.economics else 0.0
        row = frames["evpi"].iloc[(frames["evpi"]["wtp"] - wtp).abs().argmin()]
        prob = frames["ceac"][frames["ceac"]["wtp"] == row["wtp"]]
        for _, r in prob.iterrows():
            out_console.print(
                f"P(cost-effective at {row['wtp']:,.0f}/QALY) {r['arm']}: "
                f"{r['probability_cost_effective']:.2f}"
            )
        out_console.print(
            f"EVPI per patient at {row['wtp']:,.0f}/QALY: {row['evpi_per_patient']:,.0f}"
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
    if model.economics is None or len(model.arms) < 2:
        raise CartsimError(
            "one-way sensitivity needs economics and two or more arms", str(scenario)
        )
    started = dt.datetime.now()
    folder = _analysis_folder(out, model, "dsa")
    reps = model.run.replications
    variants = [v for v in dsa_variants(source) if not same_model(source, v, model)]
    units = [(i, v, r) for i, v in enumerate(variants) for r in range(reps)]
    plan = _plan(source, analysis="dsa", replications=reps)
    results = _run_analysis(
        folder,
        "dsa",
        plan,
        dsa_unit,
        units,
        chunk_size,
        workers,
        scheduler,
        resume,
        f"one-way sensitivity of {model.name}",
        shared=(source,),
    )
    by_index = dict(list(results.groupby("variant")))
    per_variant = {v: by_index[i].drop(columns="variant") for i, v in enumerate(variants)}
    base = per_variant[variants[0]]
    for variant in dsa_variants(source):
        per_variant.setdefault(variant, base)  # an unused parameter leaves the model as it is
    table = finish_dsa(per_variant, source, model)
    _finish(folder, source, model, started, {"dsa": table}, analysis="dsa")
    if len(table):
        out_console.print(
            table.head(10)[["parameter", "comparison", "inmb_low", "inmb_high"]].to_string(
                index=False
            )
        )


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
    started = dt.datetime.now()
    folder = _analysis_folder(out, model, "sweep")
    base_sets = list(set_ or [])
    scenarios = [
        _load(
            scenario, [*base_sets, *(f"{k}={v}" for k, v in setting.items())], seed, replications
        )[1]
        for setting in grid
    ]
    reps = model.run.replications
    units = [(s, i, r) for i, s in enumerate(scenarios) for r in range(reps)]
    plan = _plan(source, analysis="sweep", grid=grid, replications=reps)
    metrics = _run_analysis(
        folder,
        "sweep",
        plan,
        sweep_unit,
        units,
        chunk_size,
        workers,
        scheduler,
        resume,
        f"sweep of {model.name}",
    )
    table = finish_sweep(metrics, grid, scenarios)
    _finish(folder, source, model, started, {"sweep": table}, analysis="sweep", grid=grid)
    best = cheapest_meeting_target(table, model)
    if model.target is not None:
        if best is None:
            out_console.print(
                f"no setting meets the target {model.target.metric} for {model.target.arm}"
            )
        else:
            out_console.print(
                f"cheapest setting meeting the target: {best['setting']} "
                f"({model.target.metric} = {best['mean']:.1f})"
            )


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
