"""Decision analysis on saved or new runs: ``evppi`` and ``threshold``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cartsim.cli.common import (
    OutOpt,
    OverwriteOpt,
    RepsOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    _load,
    _write_report,
    app,
    default_workers,
    out_console,
    show,
    user_errors,
    write_evppi,
)
from cartsim.inputs.errors import CartsimError


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
    write_evppi(run_dir, wtp, list(group or []), bootstrap)


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
    source, model = _load(scenario, set_, seed, replications)
    from cartsim.report.results import run_manifest, write_files
    from cartsim.runs import folders
    from cartsim.runs.threshold import ThresholdStudy, threshold_table, two_way_grid

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
