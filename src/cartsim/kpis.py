"""Key performance indicators per replication and arm, and their means with 95% CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartsim.decision import mean_ci
from cartsim.derive import STATUSES


def _patient_metrics(p: pd.DataFrame) -> dict[str, float]:
    treated = p[p["treatment_day"].notna()]
    out: dict[str, float] = {"referred": float(len(p)), "treated": float(len(treated))}
    for status in STATUSES:
        out[status] = float((p["status"] == status).sum())
    for col in [c for c in p.columns if c.startswith("wait_") and c != "wait_days"]:
        if p[col].notna().any():  # stages of other arms have no values here
            out[f"mean_{col}"] = float(p[col].mean())
    for col in ("referral_to_treatment_days", "vein_to_vein_days"):
        values = p[col].dropna()
        out[f"mean_{col}"] = float(values.mean()) if len(values) else np.nan
        out[f"median_{col}"] = float(values.median()) if len(values) else np.nan
        out[f"p90_{col}"] = float(values.quantile(0.9)) if len(values) else np.nan
    for col in ("inpatient_days", "icu_days"):
        out[f"mean_{col}"] = float(treated[col].mean()) if len(treated) else np.nan
    for col in [c for c in p.columns if c in ("cost_total", "qaly_total", "qaly_undiscounted")]:
        out[f"mean_{col}"] = float(p[col].mean())
    return out


def replication_metrics(
    patients: pd.DataFrame, resources: pd.DataFrame, warmup_days: float, window_days: float
) -> pd.DataFrame:
    """Long table ``replication, arm, metric, value``.

    Patient measures count patients referred after the warm-up; resource measures average the
    days from the end of the warm-up to the end of the referral window (the steady state, before
    the service drains).
    """
    rows = []
    cohort = patients[patients["arrival_day"] >= warmup_days]
    for (rep, arm), group in cohort.groupby(["replication", "arm"], observed=True, sort=True):
        for metric, value in _patient_metrics(group).items():
            rows.append((rep, arm, metric, value))
    after = resources[(resources["day"] >= warmup_days) & (resources["day"] < window_days)]
    by = ["replication", "arm", "resource"]
    for (rep, arm, res), group in after.groupby(by, observed=True, sort=True):
        rows.append((rep, arm, f"utilisation_{res}", float(group["utilisation"].mean())))
        rows.append((rep, arm, f"mean_queue_{res}", float(group["queue_length"].mean())))
        rows.append((rep, arm, f"mean_in_use_{res}", float(group["in_use"].mean())))
    return pd.DataFrame(rows, columns=["replication", "arm", "metric", "value"])


def summarise(metrics: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """``arm, metric, mean, ci_low, ci_high, n_replications`` across replications."""
    rows = []
    for (arm, metric), group in metrics.groupby(["arm", "metric"], observed=True, sort=False):
        values = group["value"].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        mean, low, high = mean_ci(values, level) if values.size else (np.nan, np.nan, np.nan)
        rows.append((arm, metric, mean, low, high, int(values.size)))
    return pd.DataFrame(
        rows, columns=["arm", "metric", "mean", "ci_low", "ci_high", "n_replications"]
    )
