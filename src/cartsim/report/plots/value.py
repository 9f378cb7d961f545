"""Value figures: costs, budget impact, CE plane, CEAC and EVPI."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cartsim.report.plots.common import (
    _arms,
    _colour,
    _f32,
    _finish,
    _of_arm,
    esc,
    has_columns,
)


def _cost_columns(frame: pd.DataFrame) -> list[str]:
    """``cost_<category>`` columns; totals (``cost_total``, ``cost_undiscounted``) left out."""
    totals = ("cost_total", "cost_undiscounted")
    return [c for c in frame.columns if c.startswith("cost_") and not c.endswith(totals)]


def _category(column: str) -> str:
    return esc(column.removeprefix("cost_").replace("_", " "))


def plot_costs(patients: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Mean cost per patient by category and arm (stacked bars).

    Parameters
    ----------
    patients : DataFrame
        ``patients.parquet`` with ``cost_<category>`` columns (totals are left out).
    currency : str, default "EUR"
        Axis unit, e.g. "EUR 2024".

    Returns
    -------
    Figure or None
        None when there is no cost column.
    """
    if patients is None or not _cost_columns(patients):
        return None
    columns = _cost_columns(patients)
    arms = _arms(patients)
    means = pd.DataFrame({arm: _of_arm(patients, arm)[columns].mean() for arm in arms})
    fig = go.Figure()
    for i, column in enumerate(columns):
        fig.add_trace(
            go.Bar(
                x=[esc(a) or "all" for a in arms],
                y=_f32(means.loc[column].to_numpy()),
                name=_category(column),
                marker_color=_colour(i),
                hovertemplate=f"{_category(column)}: %{{y:,.0f}}<extra>%{{x}}</extra>",
            )
        )
    fig.update_yaxes(title_text=f"mean cost per patient ({esc(currency)})")
    fig.update_xaxes(title_text="arm")
    return _finish(fig, "Cost per patient by category", barmode="stack")


def plot_budget(budget: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Yearly spend by category (stacked bars) and patients treated per year, per arm.

    Parameters
    ----------
    budget : DataFrame
        ``budget.parquet``: one row per (replication, arm, year) with ``cost_<category>`` (EUR,
        undiscounted) and optionally ``patients_treated``.
    currency : str, default "EUR"
        Axis unit, e.g. "EUR 2024".

    Returns
    -------
    Figure or None
        One row per arm; bars are means over replications, the line (right axis) the mean number
        of patients treated. None when the table, ``year`` or the cost columns are missing.
    """
    if budget is None or not has_columns(budget, "year") or not _cost_columns(budget):
        return None
    columns = _cost_columns(budget)
    arms = _arms(budget)
    fig = make_subplots(
        rows=len(arms),
        cols=1,
        subplot_titles=[esc(a) for a in arms],
        specs=[[{"secondary_y": True}] for _ in arms],
    )
    for row, arm in enumerate(arms, start=1):
        means = _of_arm(budget, arm).groupby("year").mean(numeric_only=True)
        for i, column in enumerate(columns):
            fig.add_trace(
                go.Bar(
                    x=means.index.to_numpy(),
                    y=_f32(means[column]),
                    name=_category(column),
                    legendgroup=column,
                    showlegend=row == 1,
                    marker_color=_colour(i),
                    hovertemplate=f"{_category(column)}: %{{y:,.0f}}<extra>%{{x}}</extra>",
                ),
                row=row,
                col=1,
            )
        if "patients_treated" in means:
            fig.add_trace(
                go.Scatter(
                    x=means.index.to_numpy(),
                    y=_f32(means["patients_treated"]),
                    name="patients treated",
                    legendgroup="treated",
                    showlegend=row == 1,
                    mode="lines+markers",
                    line={"color": "black"},
                ),
                row=row,
                col=1,
                secondary_y=True,
            )
        fig.update_yaxes(title_text=f"spend ({esc(currency)})", row=row, col=1, secondary_y=False)
        fig.update_yaxes(
            title_text="treated (patients)",
            rangemode="tozero",
            tickmode="auto",
            showgrid=False,
            row=row,
            col=1,
            secondary_y=True,
        )
    fig.update_xaxes(title_text="year (year 0 starts on day 0)", dtick=1)
    title = "Budget impact: mean yearly spend (undiscounted) and patients treated"
    return _finish(fig, title, height=320 * len(arms) + 140, barmode="stack")


def reference_arm(psa: pd.DataFrame) -> Any:
    """The least costly arm on average (the default comparator of the decision tables)."""
    means = psa.groupby("arm", observed=True, sort=False)["cost"].mean()
    return means.idxmin()


def plot_ce_plane(
    psa: pd.DataFrame | None,
    wtp: float = 50_000.0,
    reference: Any = None,
    max_points: int = 2_000,
    seed: int = 0,
    currency: str = "EUR",
) -> go.Figure | None:
    """Cost-effectiveness plane: incremental cost against incremental QALYs per PSA iteration.

    Parameters
    ----------
    psa : DataFrame
        ``psa.parquet``: ``iteration, arm, cost`` (EUR per patient), ``qaly`` (QALYs per patient).
    wtp : float, default 50,000
        Willingness to pay (EUR per QALY) of the dashed threshold line.
    reference : optional
        Comparator arm; default the least costly arm on average.
    max_points : int, default 2,000
        Most points drawn in all, shared equally between comparisons (a random sample of
        iterations, to keep the report small).
    seed : int, default 0
        Seed of that display sample.

    Returns
    -------
    Figure or None
        None when the table or a column is missing, or there is only one arm.
    """
    if not has_columns(psa, "iteration", "arm", "cost", "qaly"):
        return None
    assert psa is not None
    arms = _arms(psa)
    if len(arms) < 2:
        return None
    ref = reference_arm(psa) if reference is None else reference
    wide = psa.pivot_table(index="iteration", columns="arm", values=["cost", "qaly"], observed=True)
    rng = np.random.default_rng(seed)
    fig = go.Figure()
    reach = 0.0
    for i, arm in enumerate(a for a in arms if a != ref):
        dc = (wide["cost"][arm] - wide["cost"][ref]).to_numpy()
        dq = (wide["qaly"][arm] - wide["qaly"][ref]).to_numpy()
        reach = max(reach, float(np.nanmax(np.abs(dq), initial=0.0)))
        size = min(dc.size, max(1, max_points // (len(arms) - 1)))
        pick = np.sort(rng.choice(dc.size, size=size, replace=False))
        label = f"{esc(arm)} vs {esc(ref)}"
        fig.add_trace(
            go.Scatter(
                x=_f32(dq[pick]),
                y=_f32(dc[pick]),
                mode="markers",
                name=label,
                marker={"color": _colour(i), "size": 4, "opacity": 0.45},
                hovertemplate="ΔQALY %{x:.3f}, Δcost %{y:,.0f}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[float(dq.mean())],
                y=[float(dc.mean())],
                mode="markers",
                name=f"{label}: mean",
                marker={"color": _colour(i), "size": 14, "symbol": "x", "line": {"width": 1}},
            )
        )
    _wtp_line(fig, 1.1 * reach or 1.0, wtp, currency)
    fig.update_xaxes(title_text="incremental QALYs per patient (QALYs)", zeroline=True)
    fig.update_yaxes(title_text=f"incremental cost per patient ({currency})", zeroline=True)
    return _finish(fig, "Cost-effectiveness plane (probabilistic sensitivity analysis)")


def _wtp_line(fig: go.Figure, reach: float, wtp: float, currency: str) -> None:
    x = np.array([-reach, reach], dtype=float)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=x * wtp,
            mode="lines",
            name=f"WTP {wtp:,.0f} {currency} per QALY",
            line={"color": "#444", "dash": "dash"},
            hoverinfo="skip",
        )
    )


def plot_ceac(ceac: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Cost-effectiveness acceptability curves per arm, with the acceptability frontier.

    Parameters
    ----------
    ceac : DataFrame
        ``ceac.parquet``: ``wtp, arm, probability_cost_effective`` and optionally
        ``on_frontier`` (the arm with the highest expected net benefit at each WTP).

    Returns
    -------
    Figure or None
        None when the table or a column is missing.
    """
    if not has_columns(ceac, "wtp", "arm", "probability_cost_effective"):
        return None
    assert ceac is not None
    fig = go.Figure()
    for i, arm in enumerate(_arms(ceac)):
        mine = _of_arm(ceac, arm).sort_values("wtp")
        fig.add_trace(
            go.Scatter(
                x=_f32(mine["wtp"]),
                y=_f32(mine["probability_cost_effective"]),
                name=esc(arm),
                mode="lines",
                line={"color": _colour(i)},
            )
        )
    if "on_frontier" in ceac:
        front = ceac[ceac["on_frontier"].astype(bool)].sort_values("wtp")
        fig.add_trace(
            go.Scatter(
                x=_f32(front["wtp"]),
                y=_f32(front["probability_cost_effective"]),
                text=[esc(a) for a in front["arm"]],
                name="frontier (highest expected net benefit)",
                mode="markers",
                marker={"symbol": "circle-open", "size": 9, "color": "black"},
                hovertemplate="%{text} at %{x:,.0f}: %{y:.2f}<extra>frontier</extra>",
            )
        )
    fig.update_xaxes(title_text=f"willingness to pay ({currency} per QALY)")
    fig.update_yaxes(title_text="probability cost-effective (share)", range=[0, 1.02])
    return _finish(fig, "Cost-effectiveness acceptability curves")


def plot_evpi(evpi: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Expected value of perfect information per patient and for the population.

    Parameters
    ----------
    evpi : DataFrame
        ``evpi.parquet``: ``wtp, evpi_per_patient`` and optionally ``evpi_population`` (EUR).

    Returns
    -------
    Figure or None
        None when the table or a column is missing.
    """
    if not has_columns(evpi, "wtp", "evpi_per_patient"):
        return None
    assert evpi is not None
    frame = evpi.sort_values("wtp")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=_f32(frame["wtp"]), y=_f32(frame["evpi_per_patient"]), name="per patient")
    )
    if "evpi_population" in frame:
        fig.add_trace(
            go.Scatter(
                x=_f32(frame["wtp"]),
                y=_f32(frame["evpi_population"]),
                name="population",
                line={"dash": "dash"},
            ),
            secondary_y=True,
        )
        fig.update_yaxes(title_text=f"EVPI, population ({currency})", secondary_y=True)
    fig.update_xaxes(title_text=f"willingness to pay ({currency} per QALY)")
    fig.update_yaxes(title_text=f"EVPI per patient ({currency})", secondary_y=False)
    return _finish(fig, "Expected value of perfect information")
