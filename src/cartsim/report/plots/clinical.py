"""Clinical figures: outcomes over time after treatment (Kaplan-Meier) and adverse events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report.plots.common import (
    _arms,
    _colour,
    _f32,
    _finish,
    _n_replications,
    _of_arm,
    esc,
    has_columns,
)


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps of the Kaplan-Meier curve: times (from 0) and survival just after each time."""
    times, deaths = np.unique(time[event], return_counts=True)
    at_risk = time.size - np.searchsorted(np.sort(time), times, side="left")
    surv = np.cumprod(1.0 - deaths / at_risk)
    end = time[np.isfinite(time)].max(initial=0.0)
    return np.concatenate([[0.0], times, [end]]), np.concatenate(
        [[1.0], surv, surv[-1:] if surv.size else [1.0]]
    )


def _thin(x: np.ndarray, y: np.ndarray, points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A step curve read at ``points`` evenly spaced times when it has more steps than that."""
    if x.size <= points:
        return x, y
    grid = np.linspace(0.0, x[-1], points)
    return grid, y[np.searchsorted(x, grid, side="right") - 1]


def _outcome_times(t: pd.DataFrame, horizon: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per endpoint: time from treatment (days) and whether the event happened by the horizon."""
    follow = horizon - t["treatment_day"].to_numpy(dtype=float)
    death = t["death_day"].to_numpy(dtype=float) - t["treatment_day"].to_numpy(dtype=float)
    relapse = t["relapse_day"].to_numpy(dtype=float) - t["treatment_day"].to_numpy(dtype=float)
    responded = t["response"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    died = ~np.isnan(death) & (death <= follow)
    first = np.fmin(relapse, death)
    lost = ~responded | (~np.isnan(first) & (first <= follow))
    lost_at = np.where(responded, first, 0.0)
    return {
        "remission": (np.where(lost, lost_at, follow), lost),
        "survival": (np.where(died, death, follow), died),
    }


def plot_outcomes(patients: pd.DataFrame | None, horizon_days: float) -> go.Figure | None:
    """Kaplan-Meier curves from treatment: in remission without relapse, and overall survival.

    Parameters
    ----------
    patients : DataFrame
        ``patients.parquet`` with ``treatment_day, response, relapse_day, death_day`` (days since
        day 0; NaN when none) and optionally ``arm, disease``.
    horizon_days : float
        End of follow-up (days since day 0; ``inf`` for lifetime): patients still at risk are
        censored there.

    Returns
    -------
    Figure or None
        Left: share of treated patients who responded and have neither relapsed nor died (a
        non-responder counts as an event at time 0). Right: overall survival. One line per arm
        and disease, x in years, read at most at 400 times. None when an outcome
        column is missing or nobody was treated.
    """
    need = ("treatment_day", "response", "relapse_day", "death_day")
    if not has_columns(patients, *need):
        return None
    assert patients is not None
    treated = patients[patients["treatment_day"].notna()]
    if not len(treated):
        return None
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=["In remission, relapse-free", "Overall survival"]
    )
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    groups = ["disease"] if "disease" in treated.columns else []
    one_arm = len(_arms(treated)) == 1
    for i, arm in enumerate(_arms(treated)):
        mine = _of_arm(treated, arm)
        parts = mine.groupby(groups, observed=True) if groups else [(("all",), mine)]
        for j, (key, group) in enumerate(parts):
            dash = "solid" if one_arm else dashes[j % len(dashes)]
            disease = key[0] if isinstance(key, tuple) else key
            name = " · ".join(x for x in (esc(arm), esc(disease)) if x)
            for col, (time, event) in enumerate(_outcome_times(group, horizon_days).values(), 1):
                x, y = _thin(*kaplan_meier(time, event))
                fig.add_trace(
                    go.Scatter(
                        x=_f32(x / DAYS_PER_YEAR),
                        y=_f32(y),
                        name=f"{name} (n={len(group)})",
                        legendgroup=name,
                        showlegend=col == 1,
                        line={"shape": "hv", "color": _colour(j if one_arm else i), "dash": dash},
                        hovertemplate=f"{name}<br>year %{{x:.1f}}: %{{y:.2f}}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
    fig.update_yaxes(title_text="share of treated patients", range=[0, 1.03])
    fig.update_xaxes(title_text="time since treatment (years)", rangemode="tozero")
    return _finish(fig, "Clinical course after treatment (Kaplan-Meier, censored at horizon)")


def plot_adverse_events(patients: pd.DataFrame | None) -> go.Figure | None:
    """Treated patients by CRS and ICANS grade (0-4), per arm.

    Parameters
    ----------
    patients : DataFrame
        ``patients.parquet`` with ``crs_grade, icans_grade`` and optionally ``treatment_day``
        (only treated patients count), ``arm``, ``replication``.

    Returns
    -------
    Figure or None
        Bars of mean patients per replication at each grade. None when a grade column is missing.
    """
    if not has_columns(patients, "crs_grade", "icans_grade"):
        return None
    assert patients is not None
    treated = (
        patients[patients["treatment_day"].notna()] if "treatment_day" in patients else patients
    )
    fig = make_subplots(rows=1, cols=2, subplot_titles=["CRS", "ICANS"], shared_yaxes=True)
    grades = list(range(5))
    for i, arm in enumerate(_arms(patients)):
        mine = _of_arm(treated, arm)
        reps = max(_n_replications(_of_arm(patients, arm)), 1)
        for col, which in enumerate(("crs_grade", "icans_grade"), start=1):
            counts = mine[which].value_counts().reindex(grades, fill_value=0) / reps
            share = counts / max(counts.sum(), 1e-12)
            fig.add_trace(
                go.Bar(
                    x=[f"grade {g}" for g in grades],
                    y=_f32(counts),
                    customdata=_f32(share),
                    name=esc(arm) or "all",
                    legendgroup=str(i),
                    showlegend=col == 1,
                    marker_color=_colour(i),
                    hovertemplate="%{x}: %{y:.1f} patients (%{customdata:.1%})<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text="treated patients (mean per replication)", row=1, col=1)
    fig.update_xaxes(title_text="grade (ASTCT)")
    return _finish(
        fig, "Cytokine release syndrome and ICANS among treated patients", barmode="group"
    )
