"""Clinical figures: outcomes over time after treatment (Kaplan-Meier) and adverse events."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import CensoredData, ecdf

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


class Steps(NamedTuple):
    """A Kaplan-Meier curve as steps: times from 0, survival and its 95% confidence band just
    after each time."""

    x: np.ndarray
    y: np.ndarray
    low: np.ndarray
    high: np.ndarray


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> Steps:
    """Product-limit estimate (``scipy.stats.ecdf``) with its 95% pointwise band (Greenwood).

    ``time``: follow-up of each patient; ``event``: True when it ends in the event, False when
    censored (a patient censored at an event time counts as at risk then). Infinite censoring
    times are censored at the last finite time. The steps start at (0, 1) and end at that time.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    end = time[np.isfinite(time)].max(initial=0.0)
    time = np.where(np.isfinite(time), time, end)
    one = np.ones(1)
    if not event.any():  # nothing happens: the curve stays at 1
        return Steps(np.array([0.0, end]), np.ones(2), np.ones(2), np.ones(2))
    sf = ecdf(CensoredData(uncensored=time[event], right=time[~event])).sf
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined where S = 0: filled below
        band = sf.confidence_interval(0.95)
    y = sf.probabilities
    low = np.where(np.isnan(band.low.probabilities), y, band.low.probabilities)
    high = np.where(np.isnan(band.high.probabilities), y, band.high.probabilities)
    return Steps(
        np.concatenate([[0.0], sf.quantiles]),
        np.concatenate([one, y]),
        np.concatenate([one, low]),
        np.concatenate([one, high]),
    )


def _thin(steps: Steps, points: int = 400) -> Steps:
    """A step curve read at ``points`` evenly spaced times when it has more steps than that."""
    if steps.x.size <= points:
        return steps
    grid = np.linspace(0.0, steps.x[-1], points)
    at = np.searchsorted(steps.x, grid, side="right") - 1
    return Steps(grid, steps.y[at], steps.low[at], steps.high[at])


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
        and disease with its 95% confidence band (three traces: band edges, then the curve),
        x in years, read at most at 400 times. None when an outcome column is missing or nobody
        was treated.
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
            colour = _colour(j if one_arm else i)
            for col, (time, event) in enumerate(_outcome_times(group, horizon_days).values(), 1):
                steps = _thin(kaplan_meier(time, event))
                x = _f32(steps.x / DAYS_PER_YEAR)
                for trace in _km_traces(steps, x, name, len(group), colour, dash, col == 1):
                    fig.add_trace(trace, row=1, col=col)
    fig.update_yaxes(title_text="share of treated patients", range=[0, 1.03])
    fig.update_xaxes(title_text="time since treatment (years)", rangemode="tozero")
    title = "Clinical course after treatment (Kaplan-Meier with 95% band, censored at horizon)"
    return _finish(fig, title)


def _km_traces(
    steps: Steps, x: np.ndarray, name: str, n: int, colour: str, dash: str, legend: bool
) -> list[go.Scatter]:
    """The band (lower edge, then upper edge filled to it) and the curve of one group."""
    edge = {"shape": "hv", "width": 0, "color": colour}
    common = {"x": x, "legendgroup": name, "showlegend": False, "hoverinfo": "skip"}
    return [
        go.Scatter(y=_f32(steps.low), line=edge, **common),
        go.Scatter(y=_f32(steps.high), line=edge, fill="tonexty", opacity=0.15, **common),
        go.Scatter(
            x=x,
            y=_f32(steps.y),
            name=f"{name} (n={n})",
            legendgroup=name,
            showlegend=legend,
            line={"shape": "hv", "color": colour, "dash": dash},
            hovertemplate=f"{name}<br>year %{{x:.1f}}: %{{y:.2f}}<extra></extra>",
        ),
    ]


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
