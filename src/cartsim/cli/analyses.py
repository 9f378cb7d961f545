"""Sensitivity analyses over many work units: ``psa``, ``dsa``, ``sweep`` and ``scenarios``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cartsim.cli.common import (
    DEFAULT_SCENARIO,
    ChunkOpt,
    ConfidenceOpt,
    ExportOpt,
    ItersOpt,
    MaxRepsOpt,
    OutOpt,
    OverwriteOpt,
    RepsOpt,
    ResumeOpt,
    ScenarioArg,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    _analysis,
    _finish,
    _load,
    _overrides,
    _progress,
    _write_report,
    app,
    console,
    default_workers,
    out_console,
    show,
    user_errors,
    write_evppi,
)


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
    from cartsim.report.export import export_tables
    from cartsim.runs import studies

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
        write_evppi(run.folder, None, [], None)


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
    from cartsim.report.export import export_tables
    from cartsim.runs import studies

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
    from cartsim.report.export import export_tables
    from cartsim.runs import studies

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
def scenarios(
    scenario: ScenarioArg = Path("scenarios/cart_vs_asct.yaml"),
    replications: RepsOpt = None,
    seed: SeedOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Scenario analyses: the base case and each scenario_analyses set on the same patients."""
    source, model = _load(scenario, set_, seed, replications)
    from cartsim.report.results import run_manifest, write_files
    from cartsim.runs import folders
    from cartsim.runs.scenario_analyses import analyses, run_analyses

    found = analyses(source, model, _overrides(set_, seed, replications))
    started = dt.datetime.now()
    folder = out or folders.default_folder(model.name, model.run.seed, "scenarios")
    with folders.new_run(folder, overwrite) as scratch, _progress() as progress:
        total = len(found) * model.run.replications
        task = progress.add_task(f"scenario analyses of {model.name}", total=total)
        table = run_analyses(found, workers or default_workers(), lambda: progress.advance(task))
        manifest = run_manifest(source, model, started, analysis="scenarios")
        write_files(scratch, {"scenarios": table}, manifest)
        _write_report(scratch)
    out_console.print(f"results in {folder}")
    show.print_scenarios(table, model)
