"""Figures of a service of sites: the schematic of sites, shared resources and courier legs, and
a measure per year side by side for two scenarios."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from cartsim.report.plots.common import _colour, _finish, esc, has_columns

NATIONAL = "national"


def _capacity(value: object) -> str:
    number = float(str(value))
    return "unlimited" if math.isinf(number) else f"{number:g}"


def plot_network(
    resources: pd.DataFrame | None, legs: pd.DataFrame | None, title: str = ""
) -> go.Figure | None:
    """Sites on the left, the nationally shared resources on the right; each node lists the
    resources standing there with their capacity; an arrow per courier leg that applies,
    labelled with its stage, dispatch days and cut-off hour (a leg between two resources at
    the same place is not taken and not drawn)."""
    if not has_columns(resources, "site", "resource", "place", "capacity"):
        return None
    assert resources is not None
    sites = [s for s in pd.unique(resources["site"].astype(str)) if s]
    national = resources[resources["place"] == NATIONAL].drop_duplicates("resource")
    places = {site: (0.0, float(len(sites) - 1 - k)) for k, site in enumerate(sites)}
    if len(national):
        places[NATIONAL] = (1.0, (len(sites) - 1) / 2)
    fig = go.Figure()
    for k, (place, (x, y)) in enumerate(places.items()):
        here = national if place == NATIONAL else resources[
            (resources["site"] == place) & (resources["place"] == place)]  # fmt: skip
        lines = [f"{esc(r.resource)}: {_capacity(r.capacity)}" for r in here.itertuples()]
        label = f"<b>{esc(place)}</b><br>" + "<br>".join(lines)
        fig.add_trace(go.Scatter(
            x=[x], y=[y], mode="markers+text", text=[label], name=esc(place),
            textposition="middle left" if place != NATIONAL else "middle right",
            marker={"size": 26, "color": _colour(k), "symbol": "square" if place == NATIONAL
                    else "circle"}, hoverinfo="text", showlegend=False))  # fmt: skip
    if has_columns(legs, "site", "stage", "from_place", "to_place", "applies"):
        assert legs is not None
        taken = legs[legs["applies"].astype(bool)].drop_duplicates(["site", "stage"])
        labelled: set[str] = set()
        for leg in taken.itertuples():
            (x0, y0), (x1, y1) = places[str(leg.from_place)], places[str(leg.to_place)]
            shift = 0.06 if x1 > x0 else -0.06  # outward and return legs apart
            text = (
                f"{esc(leg.stage)} ({esc(leg.dispatch_weekdays)}, cut-off {leg.cut_off_hour:g} h)"
            )
            fig.add_annotation(x=x1, y=y1 + shift, ax=x0, ay=y0 + shift, xref="x", yref="y",
                               axref="x", ayref="y", showarrow=True, arrowhead=3,
                               arrowcolor="#555", text="")  # fmt: skip
            if str(leg.stage) not in labelled:  # each leg named once, on its first arrow
                labelled.add(str(leg.stage))
                fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2 + 2 * shift, text=text,
                                   showarrow=False, font={"size": 10})  # fmt: skip
    fig.update_xaxes(visible=False, range=[-0.9, 1.9])
    fig.update_yaxes(visible=False, range=[-0.8, max(len(sites), 1) - 0.2])
    heading = title or "Sites, shared resources (capacity) and courier legs"
    return _finish(fig, heading, height=180 + 110 * max(len(sites), 1))


def plot_by_period(
    table: pd.DataFrame | None, metric: str, unit: str, bound: float | None = None
) -> go.Figure | None:
    """``metric`` per period of each scenario (mean and 95% CI; rows of ``comparison`` other
    than the difference), with a dotted target line at ``bound``."""
    if not has_columns(table, "scenario", "metric", "period", "mean", "ci_low", "ci_high"):
        return None
    assert table is not None
    rows = table[(table["metric"] == metric) & (table["period"] != "all")]
    if not len(rows):
        return None
    fig = go.Figure()
    for k, (name, group) in enumerate(rows.groupby("scenario", sort=False)):
        fig.add_trace(go.Scatter(
            x=[esc(p) for p in group["period"]], y=group["mean"], name=esc(name),
            mode="lines+markers", line={"color": _colour(k)},
            error_y={"type": "data", "symmetric": False,
                     "array": group["ci_high"] - group["mean"],
                     "arrayminus": group["mean"] - group["ci_low"]}))  # fmt: skip
    if bound is not None:
        fig.add_hline(y=bound, line_dash="dot")
    return _finish(fig, f"{esc(metric)} per period", yaxis_title=unit)
