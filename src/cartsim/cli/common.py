"""Shared parts of the ``cartsim`` command line: options, helpers, the typer app.

Modules that only some commands need (the runs, the report) are imported inside the functions
that use them, so the other commands start faster.
"""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from cartsim.inputs.errors import CartsimError
from cartsim.report import console as show
from cartsim.report.export import ExportKind

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from cartsim.inputs import loading
    from cartsim.inputs.scenario import Scenario
    from cartsim.runs.studies import Execution


def default_workers() -> int:
    from cartsim.runs import executors as _executors

    return int(_executors.default_workers())


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
    from cartsim.inputs import loading

    source = loading.load(scenario, _overrides(overrides, seed, reps))
    return source, source.build()


def _check_threshold_prices(source: loading.ScenarioSource, model: Scenario) -> None:
    """Before anything runs: every threshold price ``run`` would find is still referred to."""
    from cartsim.inputs.errors import ScenarioError
    from cartsim.inputs.threshold_prices import unused_price_problem

    problem = unused_price_problem(model, source.used_parameters())
    if problem:
        raise source.locate(ScenarioError(problem[1], str(source.path), problem[0]))


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


def _write_report(folder: Path) -> None:
    """Write report.html; the tables are saved already, so a failure here is only a warning."""
    from cartsim.report.html import write_report

    try:
        write_report(folder)
    except Exception as exc:  # noqa: BLE001 - the run's results must survive a report problem
        console.print(f"warning: report.html not written: {exc}", markup=False)


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
) -> Iterator[Execution]:
    """Claim the folder of an analysis, show progress over its work units, and on Ctrl-C say
    how to complete it. ``options``: workers, scheduler, resume, overwrite, chunk size."""
    from cartsim.runs import folders, studies

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
    run: Execution,
    source: loading.ScenarioSource,
    model: Scenario,
    started: dt.datetime,
    frames: dict[str, pd.DataFrame],
    **extra: Any,
) -> None:

    from cartsim.report.results import run_manifest, write_files

    write_files(run.folder, frames, run_manifest(source, model, started, **extra))
    _write_report(run.folder)


def write_evppi(run_dir: Path, wtp: float | None, groups: list[str], bootstrap: int | None) -> None:
    """EVPPI of a PSA folder into evppi.parquet; the report rebuilt; the top rows printed."""
    from cartsim.report.information import evppi_of_folder

    table, money = evppi_of_folder(run_dir, wtp, groups, bootstrap)
    _write_report(run_dir)
    show.print_evppi(table, money)
    out_console.print(f"EVPPI in {run_dir / 'evppi.parquet'}")
