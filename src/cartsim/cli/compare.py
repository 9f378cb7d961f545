"""``cartsim compare``: two scenarios on the same patients, written into one folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cartsim.cli.common import (
    INTERRUPTED,
    ExportOpt,
    OutOpt,
    OverwriteOpt,
    RepsOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    WorkersOpt,
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


@app.command()
@user_errors
def compare(
    first: ScenarioArg,
    second: Annotated[Path, typer.Argument(help="second scenario YAML file")],
    out: OutOpt = None,
    seed: SeedOpt = None,
    replications: RepsOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    overwrite: OverwriteOpt = False,
    export: ExportOpt = None,
) -> None:
    """Run two scenarios with the same seed and replications (the first's unless given: the
    same patients) and write both runs, each in a folder of its own, and a side-by-side
    comparison with its report into one folder."""
    source_a, model_a = _load(first, set_, seed, replications)
    common = (model_a.run.seed, model_a.run.replications)
    source_b, model_b = _load(second, set_, *common)
    from cartsim.evaluate.kpis import check_targets  # the machinery: once both scenarios load
    from cartsim.report.compare import write_compare_report
    from cartsim.report.export import export_tables
    from cartsim.report.results import run_manifest, write_files
    from cartsim.runs import folders
    from cartsim.runs.compare import compare as run_compare
    from cartsim.runs.compare import same_referrals

    if model_a.name == model_b.name:
        raise CartsimError(
            f"both scenarios are named {model_a.name!r}: give them different names",
            file=str(second), field="name",
        )  # fmt: skip
    for source, model in ((source_a, model_a), (source_b, model_b)):
        check_targets(source, model)
    if not same_referrals(model_a, model_b):
        console.print("warning: the scenarios' demand differs: they do not meet the same patients")
    if set(model_a.compared_arms) != set(model_b.compared_arms):
        console.print(
            f"warning: the scenarios' arms differ ({', '.join(model_a.compared_arms)} against "
            f"{', '.join(model_b.compared_arms)}): only the arms of both are compared"
        )
    started = dt.datetime.now()
    name = f"{model_a.name}_vs_{model_b.name}"
    folder = out or folders.default_folder(name, common[0], "compare", now=started)
    try:
        with folders.new_run(folder, overwrite) as scratch, _progress() as progress:
            task = progress.add_task(f"comparing {name}", total=2 * common[1])
            runs, tables = run_compare(
                [model_a, model_b], workers or default_workers(), lambda _r: progress.advance(task)
            )
            for source, model in ((source_a, model_a), (source_b, model_b)):
                write_files(scratch / model.name, runs[model.name],
                            run_manifest(source, model, started))  # fmt: skip
                _write_report(scratch / model.name)
            manifest = run_manifest(source_a, model_a, started, analysis="compare",
                                    compared=[model_a.name, model_b.name])  # fmt: skip
            write_files(scratch, tables, manifest)
            write_compare_report(scratch)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: {folder} left as it was", err=True)
        raise typer.Exit(INTERRUPTED) from None
    export_tables(folder, export, console.print, out_console.print)
    show.print_comparison(tables, [model_a.name, model_b.name])
    out_console.print(f"results in {folder}")
