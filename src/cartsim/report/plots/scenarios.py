"""Figures of scenario analyses (forest plot of INMB) and of net budget impact (bars per year)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from cartsim.report.plots.common import _colour, _f32, _finish, esc, has_columns

BASE_CASE = "base case"  # the name ``cartsim scenarios`` gives the unchanged scenario


def plot_scenario_forest(table: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Forest plot: INMB with its 95% CI per scenario analysis, one colour per comparison.

    ``table`` is ``scenarios.parquet`` (``scenario, comparison, inmb, inmb_ci_low,
    inmb_ci_high``; money of ``currency``). The base case is drawn as a diamond and its INMB
    as a dotted line per comparison; the solid line is INMB = 0. None when a column is missing.
    """
    need = ("scenario", "comparison", "inmb", "inmb_ci_low", "inmb_ci_high")
    if not has_columns(table, *need):
        return None
    assert table is not None
    scenarios = list(pd.unique(table["scenario"]))
    labels = {s: esc(s) for s in scenarios}
    fig = go.Figure()
    for i, (comparison, part) in enumerate(table.groupby("comparison", sort=False)):
        colour = _colour(i)
        y = [labels[s] for s in part["scenario"]]
        base = part["scenario"] == BASE_CASE
        fig.add_trace(
            go.Scatter(
                x=_f32(part["inmb"]),
                y=y,
                mode="markers",
                name=esc(comparison),
                legendgroup=esc(comparison),
                marker={
                    "color": colour,
                    "size": [14 if b else 9 for b in base],
                    "symbol": ["diamond" if b else "circle" for b in base],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": _f32(part["inmb_ci_high"] - part["inmb"]),
                    "arrayminus": _f32(part["inmb"] - part["inmb_ci_low"]),
                },
                hovertemplate="%{y}: INMB %{x:,.0f}<extra>" + esc(comparison) + "</extra>",
            )
        )
        if base.any():
            fig.add_vline(
                x=float(part.loc[base, "inmb"].iloc[0]), line_dash="dot", line_color=colour
            )
    fig.add_vline(x=0.0, line_color="black", line_width=1)
    fig.update_yaxes(categoryorder="array", categoryarray=[labels[s] for s in reversed(scenarios)])
    fig.update_xaxes(title=f"incremental net monetary benefit ({esc(currency)} per patient)")
    return _finish(
        fig,
        "Scenario analyses: INMB with 95% CI (diamond and dotted line: base case)",
        height=max(350, 60 * len(scenarios) + 150),
        scattermode="group",
    )


def plot_budget_impact(table: pd.DataFrame | None, currency: str = "EUR") -> go.Figure | None:
    """Net budget impact per calendar year, one bar group per arm against current practice,
    with 95% CIs (``budget_impact.parquet``; undiscounted money of ``currency``)."""
    need = ("year", "arm", "reference", "net_budget_impact")
    if not has_columns(table, *need):
        return None
    assert table is not None
    when = "calendar_year" if has_columns(table, "calendar_year") else "year"
    fig = go.Figure()
    for i, (arm, part) in enumerate(table.groupby("arm", sort=False)):
        error = None
        if has_columns(part, "net_budget_impact_ci_low", "net_budget_impact_ci_high"):
            error = {
                "type": "data",
                "symmetric": False,
                "array": _f32(part["net_budget_impact_ci_high"] - part["net_budget_impact"]),
                "arrayminus": _f32(part["net_budget_impact"] - part["net_budget_impact_ci_low"]),
            }
        fig.add_trace(
            go.Bar(
                x=[esc(x) for x in part[when]],
                y=_f32(part["net_budget_impact"]),
                error_y=error,
                name=f"{esc(arm)} vs {esc(part['reference'].iloc[0])}",
                marker_color=_colour(i),
            )
        )
    fig.add_hline(y=0.0, line_color="black", line_width=1)
    fig.update_xaxes(title="year of the run (calendar year it starts in)", type="category")
    fig.update_yaxes(title=f"net budget impact ({esc(currency)}, undiscounted)")
    return _finish(fig, "Net budget impact against current practice, per year", barmode="group")
