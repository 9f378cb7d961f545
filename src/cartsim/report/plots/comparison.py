"""Figure of the products compared on both axes: capacity per patient treated against value."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cartsim.report.plots.common import _colour, _f32, _finish, esc, has_columns


def plot_capacity_value(
    table: pd.DataFrame | None, resources: list[str], inmb: str, currency: str = "EUR"
) -> go.Figure | None:
    """One panel per resource: days held per patient treated (x) against INMB (y), one point
    per arm with both 95% CIs as bars.

    ``table`` has one row per arm: ``arm``, ``<resource> days``, ``<resource> days_ci_low`` and
    ``_ci_high`` for each of ``resources``, and the column ``inmb`` with its ``_ci_low`` and
    ``_ci_high`` (money of ``currency`` per referred patient). None when a column is missing.
    """
    days = [f"{r} days" for r in resources]
    need = ("arm", inmb, f"{inmb}_ci_low", f"{inmb}_ci_high", *days)
    if not resources or not has_columns(table, *need):
        return None
    assert table is not None
    cols = min(len(resources), 2)
    rows = (len(resources) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[esc(r) for r in resources])
    for k, column in enumerate(days):
        for i, values in enumerate(table.to_dict("records")):
            x = float(values[column])
            if x != x:  # NaN: the arm treated nobody
                continue
            fig.add_trace(
                go.Scatter(
                    x=_f32([x]),
                    y=_f32([values[inmb]]),
                    mode="markers",
                    name=esc(values["arm"]),
                    legendgroup=esc(values["arm"]),
                    showlegend=k == 0,
                    marker={"color": _colour(i), "size": 10},
                    error_x=_bar(x, values[f"{column}_ci_low"], values[f"{column}_ci_high"]),
                    error_y=_bar(values[inmb], values[f"{inmb}_ci_low"], values[f"{inmb}_ci_high"]),
                    hovertemplate=esc(values["arm"])
                    + ": %{x:,.2f} days, INMB %{y:,.0f}<extra></extra>",
                ),
                row=k // cols + 1,
                col=k % cols + 1,
            )
        fig.update_xaxes(title="days per patient treated", row=k // cols + 1, col=k % cols + 1)
        fig.update_yaxes(title=f"INMB ({esc(currency)})", row=k // cols + 1, col=k % cols + 1)
    fig.add_hline(y=0.0, line_color="black", line_width=1)
    return _finish(fig, "Capacity used per patient treated against net benefit", 330 * rows)


def _bar(value: float, low: float, high: float) -> dict[str, object]:
    """An asymmetric error bar from a CI (none where the CI is missing)."""
    if low != low or high != high:
        return {"visible": False}
    return {"type": "data", "symmetric": False, "array": _f32([high - value]),
            "arrayminus": _f32([value - low])}  # fmt: skip
