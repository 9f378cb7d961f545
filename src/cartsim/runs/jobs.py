"""Long analyses that survive interruption: work units written in chunks, atomically.

The units of an analysis are split into chunks of consecutive units. A chunk is written to
``<out>/<name>-chunks/`` (atomically, :mod:`cartsim.runs.atomic`) as soon as all its units are
back, so a killed run loses at most the chunks in flight. The same command with ``resume=True``
checks that the plan is the same, runs only the missing chunks and returns the same table as an
uninterrupted run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.inputs.errors import CartsimError
from cartsim.runs.atomic import atomic_writer, write_text
from cartsim.runs.executors import run_units

UNIT = "_unit"
Rows = list[dict[str, Any]]  # what a work unit sends back: plain rows, cheap to pickle


def chunk_path(folder: Path, chunk: int) -> Path:
    return folder / f"chunk-{chunk:06d}.parquet"


def _check_plan(folder: Path, plan: dict[str, Any], resume: bool) -> None:
    plan_file = folder / "plan.json"
    text = json.dumps(plan, sort_keys=True, default=str)
    if plan_file.is_file():
        if not resume:
            raise CartsimError(
                "already holds results of a run: add --resume to complete it, or use another --out",
                file=str(folder.parent),
            )
        if plan_file.read_text(encoding="utf-8") != text:
            raise CartsimError(
                "--resume: the scenario or options differ from the interrupted run",
                file=str(plan_file),
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_text(plan_file, text)


def _write_chunk(path: Path, units: list[Rows]) -> None:
    with atomic_writer(path) as handle:
        pd.DataFrame([row for rows in units for row in rows]).to_parquet(handle, index=False)


def run_chunked(
    out: Path,
    name: str,
    plan: dict[str, Any],
    func: Callable[..., Rows],
    units: Sequence[tuple[Any, ...]],
    chunk_size: int,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    on_unit: Callable[[], None] | None = None,
    shared: tuple[Any, ...] = (),
) -> pd.DataFrame:
    """Run every unit (``func(*shared, *unit)`` returns rows: dicts of column values, cheap to
    send between processes) and return all rows as one table, in unit order."""
    folder = out / f"{name}-chunks"
    _check_plan(folder, {**plan, "units": len(units), "chunk_size": chunk_size}, resume)
    for scratch in folder.glob(".chunk-*.tmp"):  # left by a killed run (never followed)
        scratch.unlink(missing_ok=True)
    chunks = range((len(units) + chunk_size - 1) // chunk_size)
    missing = [c for c in chunks if not chunk_path(folder, c).is_file()]
    if on_unit:
        for _ in range(len(units) - sum(_chunk_len(c, chunk_size, len(units)) for c in missing)):
            on_unit()
    todo = [
        i for c in missing for i in range(c * chunk_size, min(len(units), (c + 1) * chunk_size))
    ]
    held: dict[int, list[Rows]] = {c: [] for c in missing}
    pending = [units[i] for i in todo]
    for position, rows in run_units(func, pending, workers, scheduler, shared):
        index = todo[position]
        chunk = index // chunk_size
        held[chunk].append([{**row, UNIT: index} for row in rows])
        if len(held[chunk]) == _chunk_len(chunk, chunk_size, len(units)):
            _write_chunk(chunk_path(folder, chunk), held.pop(chunk))
        if on_unit:
            on_unit()
    parts = [pd.read_parquet(chunk_path(folder, c)) for c in chunks]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return table.sort_values(UNIT, kind="stable").drop(columns=UNIT).reset_index(drop=True)


def _chunk_len(chunk: int, size: int, total: int) -> int:
    return min(total, (chunk + 1) * size) - chunk * size
