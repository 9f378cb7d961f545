"""A run folder read for the report: the validated manifest and the tables, checked on reading.

The folder is untrusted input. Each table the report reads must hold the columns it draws from
(:data:`REQUIRED`), and a column named as a time, a count or an amount must be numeric; a table
that cannot be read or does not fit raises :class:`CartsimError` with one line naming the file.
The event log is read for its first replication only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.inputs.errors import CartsimError
from cartsim.report.manifest import load_manifest

REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("arm", "status"),
    "resources": ("resource", "day", "in_use", "queue_length"),
    "kpis": ("arm", "metric", "mean", "ci_low", "ci_high"),
    "budget": ("arm", "year"),
    "incremental": ("arm",),
    "psa": ("iteration", "arm", "cost", "qaly"),
    "ceac": ("wtp", "arm", "probability_cost_effective"),
    "evpi": ("wtp", "evpi_per_patient"),
    "dsa": ("parameter", "low_value", "high_value", "inmb_low", "inmb_high", "inmb_base"),
    "sweep": ("setting", "arm", "metric", "mean"),
    "events": ("replication", "patient_id", "stage", "event", "time"),
}
NUMERIC_NAMES = ("day", "in_use", "queue_length", "mean", "time", "replication", "iteration")
NUMERIC_PARTS = ("_day", "_days", "cost", "qaly", "ci_low", "ci_high", "inmb", "evpi", "wtp")
Tables = dict[str, pd.DataFrame | None]


def numeric_by_name(column: str) -> bool:
    """Whether the report does arithmetic on a column of this name."""
    name = column.lower()
    return name in NUMERIC_NAMES or any(part in name for part in NUMERIC_PARTS)


def check_table(
    frame: pd.DataFrame, name: str, path: Path, required: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """``frame`` when it has the columns of ``name`` (or ``required``) and numbers where numbers
    are expected."""
    missing = [c for c in REQUIRED[name] if c not in frame.columns]
    if required is not None:
        missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CartsimError(f"missing column(s) {', '.join(missing)}", str(path))
    for column in frame.columns:
        if not isinstance(column, str):
            raise CartsimError(f"column name {column!r} is not text", str(path))
        is_bool = pd.api.types.is_bool_dtype(frame[column])
        if numeric_by_name(column) and (
            is_bool or not pd.api.types.is_numeric_dtype(frame[column])
        ):
            raise CartsimError(f"column {column} is not numeric", str(path))
    return frame


def _read(path: Path, **options: Any) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, **options)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CartsimError(f"unreadable table: {reason}", str(path)) from None


def read_checked(run_dir: Path, name: str) -> pd.DataFrame | None:
    """The table ``name`` of ``run_dir`` checked, or None when the run did not write it."""
    path = run_dir / f"{name}.parquet"
    return check_table(_read(path), name, path) if path.is_file() else None


def first_replication_events(run_dir: Path) -> pd.DataFrame | None:
    """The event log of the first replication only (the journeys plot draws from it)."""
    path = run_dir / "events.parquet"
    if not path.is_file():
        return None
    reps = check_table(_read(path, columns=["replication"]), "events", path, ("replication",))
    if not len(reps):
        return None
    first = int(reps["replication"].min())
    return check_table(_read(path, filters=[("replication", "==", first)]), "events", path)


def read_run(run_dir: Path) -> tuple[dict[str, Any], Tables]:
    """The validated manifest and every table of the report (None when absent)."""
    manifest = load_manifest(run_dir)
    tables: Tables = {n: read_checked(run_dir, n) for n in REQUIRED if n != "events"}
    tables["events"] = first_replication_events(run_dir)
    return manifest, tables
