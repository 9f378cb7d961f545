"""A run folder read for the report: the validated manifest and the tables, checked on reading.

The folder is untrusted input. Each table the report reads must hold the columns it draws from
(:data:`REQUIRED`); a column named as a time, a count or an amount must be numeric, a name (arm,
metric, status...) text, a flag true or false. A table that cannot be read or does not fit
raises :class:`CartsimError` with one line naming the file; a table without rows counts as
absent. The event log is read for its first replication only.
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
    "incremental": (),  # every column is shown as it is
    "severity": ("reference", "qaly_weight"),
    "severity_comparisons": ("qaly_weight", "wtp", "intervention", "comparator"),
    "psa": ("iteration", "arm", "cost", "qaly"),
    "ceac": ("wtp", "arm", "probability_cost_effective"),
    "evpi": ("wtp", "evpi_per_patient"),
    "dsa": ("parameter", "low_value", "high_value", "inmb_low", "inmb_high", "inmb_base"),
    "sweep": ("setting", "arm", "metric", "mean"),
    "sweep_decision": ("setting_id", "setting", "verdict", "chosen", "capacity_cost_per_year"),
    "sweep_targets": ("setting_id", "target", "metric", "per_year", "mean", "ci_low", "ci_high"),
    "kpis_by_year": ("arm", "period_kind", "period", "metric", "mean", "ci_low", "ci_high"),
    "psa_parameters": ("iteration",),
    "psa_noise": ("comparison", "replications", "noise_share"),
    "evppi": ("group", "method", "evppi_per_patient", "se_per_patient", "wtp"),
    "threshold": ("comparator", "threshold", "threshold_ci_low", "threshold_ci_high", "method"),
    "threshold_prices": ("arm", "comparator", "threshold", "threshold_ci_low", "threshold_ci_high"),
    "footprint": ("arm", "metric", "mean", "ci_low", "ci_high"),
    "threshold_grid": ("parameter", "value", "by", "by_value", "preferred_arm"),
    "validation": ("target", "description", "simulated", "simulated_low", "simulated_high")
    + ("target_value", "target_low", "target_high", "interval_kind", "verdict", "position")
    + ("source", "shares_source_with"),
    "scenarios": ("scenario", "comparison", "inmb", "inmb_ci_low", "inmb_ci_high"),
    "budget_impact": ("year", "arm", "reference", "net_budget_impact"),
    "events": ("replication", "patient_id", "stage", "event", "time"),
    "targets": ("target", "verdict", "mean", "ci_low", "ci_high", "confidence"),
    "kpis_by_site": ("arm", "site", "period_kind", "period", "metric", "mean", "ci_low"),
    "site_resources": ("site", "resource", "place", "capacity"),
    "transport_legs": ("site", "stage", "from_place", "to_place", "applies"),
    "comparison": ("arm", "metric", "period", "scenario", "mean", "ci_low", "ci_high"),
    "comparison_targets": ("scenario", "target", "verdict", "mean", "ci_low", "ci_high"),
    "comparison_sites": ("scenario", "arm", "site", "period_kind", "metric", "mean"),
}
NUMERIC_NAMES = frozenset(
    ("day", "in_use", "queue_length", "mean", "time", "replication", "iteration", "capacity")
    + ("patient_id", "year", "n_replications")
)
NUMERIC_PARTS = (
    *("_day", "_days", "cost", "qaly", "ci_low", "ci_high", "inmb", "evpi", "wtp"),
    *("_grade", "_value", "probability", "utilisation", "patients_"),
)
TEXT = frozenset(
    ("arm", "metric", "status", "resource", "stage", "event", "disease", "setting", "parameter")
    + ("comparison", "analysis", "description")
)
KEYS = ("arm", "metric", "status", "resource", "setting", "parameter", "event")
FLAGS = ("response",)  # True or False (missing allowed)
Tables = dict[str, pd.DataFrame | None]


def numeric_by_name(column: str) -> bool:
    """Whether the report does arithmetic on a column of this name."""
    name = column.lower()
    return name in NUMERIC_NAMES or any(part in name for part in NUMERIC_PARTS)


def is_text(column: pd.Series) -> bool:
    """Whether every value present is a string (categories: every category)."""
    values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column
    return bool(pd.Series(values).dropna().map(lambda v: isinstance(v, str)).all())


def column_problem(column: pd.Series, name: str, required: bool) -> str | None:
    """What is wrong with the column ``name`` for the report, or None. A required text column
    that is a key (arm, metric, status...) has no missing values."""
    if name in TEXT:
        if not is_text(column):
            return "is not text"
        key = required and name in KEYS
        return "has missing values" if key and column.isna().any() else None
    if name in FLAGS:
        return None if pd.api.types.is_bool_dtype(column) else "is not true/false"
    if numeric_by_name(name):
        numeric = pd.api.types.is_numeric_dtype(column)
        return None if numeric and not pd.api.types.is_bool_dtype(column) else "is not numeric"
    return None


def check_table(
    frame: pd.DataFrame, name: str, path: Path, required: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """``frame`` when it has the columns of ``name`` (or ``required``), each of the kind the
    report expects."""
    required = REQUIRED[name] if required is None else required
    missing = [c for c in required if c not in frame]
    if missing:
        raise CartsimError(f"missing column(s) {', '.join(missing)}", str(path))
    for column in frame.columns:
        if not isinstance(column, str):
            raise CartsimError(f"column name {column!r} is not text", str(path))
        if problem := column_problem(frame[column], column, column in required):
            raise CartsimError(f"column {column} {problem}", str(path))
    return frame


def _read(path: Path, **options: Any) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, **options)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CartsimError(f"unreadable table: {reason}", str(path)) from None


def read_checked(run_dir: Path, name: str) -> pd.DataFrame | None:
    """The table ``name`` of ``run_dir`` checked, or None when the run did not write it or it
    has no rows."""
    path = run_dir / f"{name}.parquet"
    if not path.is_file():
        return None
    frame = check_table(_read(path), name, path)
    return frame if len(frame) else None


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
