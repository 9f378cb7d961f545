"""Commands that simulate or read one scenario: ``run``, ``check``, ``report``, ``schema`` and
``validate``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cartsim.cli.common import (
    DEFAULT_SCENARIO,
    INTERRUPTED,
    ExportOpt,
    OutOpt,
    OverwriteOpt,
    RepsOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    _check_threshold_prices,
    _load,
    _progress,
    _write_report,
    app,
    console,
    default_workers,
    out_console,
    show,
    user_errors,
)
from cartsim.inputs.errors import CartsimError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from cartsim.inputs import loading
    from cartsim.inputs.scenario import Scenario


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
    _check_threshold_prices(source, model)
    from cartsim.report.export import export_tables
    from cartsim.report.results import run_manifest, write_files
    from cartsim.runs import folders, studies

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
            if model.threshold_prices is not None and model.run.replications > 1:
                frames["threshold_prices"] = _threshold_prices(source, model, workers, progress)
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
    if "targets" in frames:
        show.print_targets(frames["targets"])
    if "incremental" in frames:
        show.print_incremental(frames["incremental"], model)
    show.print_severity(frames, model)
    if model.threshold_prices is not None and "threshold_prices" not in frames:
        console.print("threshold prices left out: their intervals need 2 or more replications")
    out_console.print(f"results in {folder}")


def _threshold_prices(
    source: loading.ScenarioSource, model: Scenario, workers: int | None, progress: Progress
) -> pd.DataFrame:
    """The scenario's threshold prices (three runs of two arms per product)."""
    from cartsim.runs.threshold_prices import threshold_prices

    assert model.threshold_prices is not None
    prices = model.threshold_prices.prices
    task = progress.add_task("threshold prices", total=len(prices))
    return threshold_prices(
        source, model, workers or default_workers(), on_arm=lambda _arm: progress.advance(task)
    )


@app.command()
@user_errors
def check(
    scenario: ScenarioArg,
    set_: SetOpt = None,
) -> None:
    """Validate a scenario file without running it."""
    source, model = _load(scenario, set_, None, None)
    from cartsim.evaluate.kpis import check_targets
    from cartsim.inputs.budget import estimated_bytes

    check_targets(source, model)
    _check_threshold_prices(source, model)
    sites = f"{len(model.sites)} site(s), " if model.sites else ""
    resources = sum(len(s.resources) for s in model.sites.values()) + len(model.resources)
    out_console.print(
        f"ok: {scenario} — scenario {model.name!r}, {len(model.arms)} arm(s), {sites}"
        f"{resources} resource(s), {len(source.parameters)} parameter(s), "
        f"about {estimated_bytes(model) / 2**30:.2g} GiB of memory to run"
    )


@app.command()
@user_errors
def report(run_dir: Annotated[Path, typer.Argument(help="a run folder")]) -> None:
    """Rebuild report.html from a run folder's saved tables (PSA, DSA and sweeps included)."""
    from cartsim.report.results import read_manifest

    found = read_manifest(run_dir)  # a clear error for a folder that is not a run
    from cartsim.report.html import write_report

    try:
        if found.get("analysis") == "compare":
            from cartsim.report.compare import write_compare_report

            path = write_compare_report(run_dir)
        else:
            path = write_report(run_dir)
    except (OSError, ValueError) as exc:  # unreadable or damaged tables
        raise CartsimError(f"cannot read the run's tables: {exc}", file=str(run_dir)) from None
    out_console.print(f"report: {path}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from cartsim.inputs.scenario import Scenario

    sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")


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

    found = load_targets(targets)
    source, model = _load(scenario, set_, seed, replications)
    from cartsim.report.results import run_manifest, write_files  # the machinery: once loaded
    from cartsim.report.validation import validation_text_table
    from cartsim.runs import folders
    from cartsim.runs.validation import run_validation

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
