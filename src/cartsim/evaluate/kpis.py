"""Key performance indicators per replication and arm, and their means with 95% CIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from cartsim.engine.eventlog import STATUSES
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd


def _stats(values: np.ndarray, name: str, out: dict[str, float]) -> None:
    """Mean, median and 90th centile of the finite values (NaN when there are none)."""
    v = values[np.isfinite(values)]
    empty = v.size == 0
    out[f"mean_{name}"] = np.nan if empty else float(v.mean())
    out[f"median_{name}"] = np.nan if empty else float(np.median(v))
    out[f"p90_{name}"] = np.nan if empty else float(np.quantile(v, 0.9))


def patient_metrics(p: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Counts, waits, times and (when present) mean cost and QALYs of one arm's patients."""
    treated = np.isfinite(np.asarray(p["treatment_day"], dtype=float))
    out: dict[str, float] = {"referred": float(treated.size), "treated": float(treated.sum())}
    counts = np.bincount(np.asarray(p["status"]), minlength=len(STATUSES))
    out.update({status: float(counts[i]) for i, status in enumerate(STATUSES)})
    for col in [c for c in p if c.startswith("wait_") and c != "wait_days"]:
        values = np.asarray(p[col], dtype=float)
        if np.isfinite(values).any():  # stages of other arms have no values here
            out[f"mean_{col}"] = float(np.nanmean(values))
    for col in ("referral_to_treatment_days", "vein_to_vein_days"):
        _stats(np.asarray(p[col], dtype=float), col, out)
    for col in ("inpatient_days", "icu_days"):
        values = np.asarray(p[col], dtype=float)[treated]
        out[f"mean_{col}"] = float(values.mean()) if values.size else np.nan
    for col in ("cost_total", "qaly_total", "qaly_undiscounted"):
        if col in p:
            values = np.asarray(p[col], dtype=float)
            out[f"mean_{col}"] = float(values.mean()) if values.size else np.nan
    return out


def resource_metrics(
    series: dict[str, np.ndarray], resources: list[str], warmup_days: float, window_days: float
) -> dict[str, float]:
    """Utilisation, mean queue and mean units in use per resource over the steady state.

    ``series`` comes from :func:`cartsim.evaluate.derive.resource_series`. The steady state runs
    from the end of the warm-up to the end of the referral window, before the service drains.
    """
    out: dict[str, float] = {}
    keep = (series["day"] >= warmup_days) & (series["day"] < window_days)
    for code, name in enumerate(resources):
        mine = keep & (series["resource"] == code)
        out[f"utilisation_{name}"] = float(series["utilisation"][mine].mean())
        out[f"mean_queue_{name}"] = float(series["queue_length"][mine].mean())
        out[f"mean_in_use_{name}"] = float(series["in_use"][mine].mean())
    return out


def metric_rows(replication: int, arm: str, metrics: dict[str, float]) -> pd.DataFrame:
    """The long ``replication, arm, metric, value`` rows of one arm."""
    import pandas as pd

    return pd.DataFrame(
        {
            "replication": replication,
            "arm": arm,
            "metric": list(metrics),
            "value": np.fromiter(metrics.values(), float, len(metrics)),
        }
    )


def metric_names(scenario: Scenario) -> set[str]:
    """Every KPI a run of ``scenario`` can report (the names in ``kpis.parquet``)."""
    names = {"referred", "treated", *STATUSES}
    for stat in ("mean", "median", "p90"):
        names |= {f"{stat}_referral_to_treatment_days", f"{stat}_vein_to_vein_days"}
    names |= {"mean_inpatient_days", "mean_icu_days"}
    for arm in scenario.arms.values():
        names |= {f"mean_wait_{s.name}_days" for s in arm.stages if getattr(s, "resource", None)}
    for resource in scenario.resources:
        names |= {f"utilisation_{resource}", f"mean_queue_{resource}", f"mean_in_use_{resource}"}
    if scenario.economics is not None:
        names |= {"mean_cost_total", "mean_qaly_total", "mean_qaly_undiscounted"}
    return names


def check_metric(metric: str, scenario: Scenario, file: object) -> None:
    """A clear error for a KPI name that no run of the scenario reports."""
    known = metric_names(scenario)
    if metric not in known:
        raise CartsimError(
            f"unknown KPI {metric!r} (known: {', '.join(sorted(known))})",
            file=str(file),
            field="target.metric",
        )
