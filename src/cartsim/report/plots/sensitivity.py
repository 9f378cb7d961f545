"""Sensitivity figures: the one-way tornado and capacity-sweep curves."""

from __future__ import annotations

from collections.abc import Sequence

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
    metric_unit,
)


def plot_tornado(
    dsa: pd.DataFrame | None, max_parameters: int = 20, currency: str = "EUR"
) -> go.Figure | None:
    """Tornado diagram of one-way sensitivity: incremental net benefit at each bound.

    Parameters
    ----------
    dsa : DataFrame
        ``dsa.parquet``: ``parameter, low_value, high_value, inmb_low, inmb_high, inmb_base``
        (EUR) and optionally ``description`` and ``comparison`` (one panel each).
    max_parameters : int, default 20
        Largest swings shown per comparison.

    Returns
    -------
    Figure or None
        None when the table or a column is missing.
    """
    need = ("parameter", "low_value", "high_value", "inmb_low", "inmb_high", "inmb_base")
    if not has_columns(dsa, *need):
        return None
    assert dsa is not None
    frame = dsa if "comparison" in dsa else dsa.assign(comparison="")
    comparisons = list(pd.unique(frame["comparison"]))
    fig = make_subplots(rows=len(comparisons), cols=1, subplot_titles=[esc(c) for c in comparisons])
    for row, comp in enumerate(comparisons, start=1):
        one = frame[frame["comparison"] == comp]
        one = one.assign(swing=(one["inmb_high"] - one["inmb_low"]).abs())
        one = one.nlargest(max_parameters, "swing").sort_values("swing")
        base = float(one["inmb_base"].iloc[0])
        label = one["description"] if "description" in one else one["parameter"]
        ticks = [
            esc(t if isinstance(t, str) and t else p)
            for t, p in zip(label, one["parameter"], strict=True)
        ]
        for bound, colour, width in (("low", _colour(0), 0.8), ("high", _colour(1), 0.45)):
            fig.add_trace(
                go.Bar(
                    y=ticks,
                    x=_f32(one[f"inmb_{bound}"] - base),
                    base=base,
                    width=width,
                    orientation="h",
                    name=f"parameter at its {bound} value"
                    + (" (thin bar)" if bound == "high" else ""),
                    legendgroup=bound,
                    showlegend=row == 1,
                    marker_color=colour,
                    customdata=np.column_stack([one[f"{bound}_value"], one[f"inmb_{bound}"]]),
                    hovertemplate="%{y}<br>value %{customdata[0]:.4g}: "
                    "INMB %{customdata[1]:,.0f}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.add_vline(x=base, line_dash="dash", line_color="#444", row=row, col=1)
    fig.update_xaxes(title_text=f"incremental net monetary benefit ({currency})")
    height = sum(min(max_parameters, (frame["comparison"] == c).sum()) for c in comparisons)
    return _finish(
        fig,
        "One-way sensitivity (tornado)",
        height=24 * height + 160 * len(comparisons),
        barmode="overlay",
    )


def plot_sweep(
    sweep: pd.DataFrame | None, metrics: Sequence[str] | None = None, currency: str = "EUR"
) -> go.Figure | None:
    """Each metric of a parameter sweep against the setting, one line per arm, with 95% CIs.

    Parameters
    ----------
    sweep : DataFrame
        ``sweep.parquet``: one row per (setting, arm, metric) with ``setting`` (a text label),
        ``arm, metric, mean`` and optionally ``setting_id`` (order), ``ci_low, ci_high``.
    metrics : sequence of str, optional
        Metrics to draw, in order; default every metric of the table. Absent ones are skipped.

    Returns
    -------
    Figure or None
        One panel per metric, two panels a row. None when the table, a column or every
        requested metric is missing.
    """
    if not has_columns(sweep, "setting", "arm", "metric", "mean"):
        return None
    assert sweep is not None
    frame = sweep.sort_values("setting_id", kind="stable") if "setting_id" in sweep else sweep
    present = list(pd.unique(frame["metric"]))
    shown = present if metrics is None else [m for m in metrics if m in present]
    if not shown:
        return None
    labels, axis_title = _setting_labels([str(s) for s in pd.unique(frame["setting"])])
    frame = frame.assign(setting=frame["setting"].astype(str).map(labels))
    settings = list(labels.values())
    rows, cols = (len(shown) + 1) // 2, min(len(shown), 2)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[esc(m) for m in shown])
    for k, metric in enumerate(shown):
        row, col = k // 2 + 1, k % 2 + 1
        for i, arm in enumerate(_arms(frame)):
            trace = _sweep_trace(_of_arm(frame[frame["metric"] == metric], arm), esc(arm), i)
            trace.showlegend = k == 0
            fig.add_trace(trace, row=row, col=col)
        fig.update_yaxes(title_text=metric_unit(str(metric), currency), row=row, col=col)
        fig.update_xaxes(categoryorder="array", categoryarray=settings, row=row, col=col)
    fig.update_xaxes(title_text=axis_title)
    title = "Sweep: results by setting (mean, 95% CI)"
    return _finish(fig, title, height=280 * rows + 160)


def _setting_labels(settings: list[str]) -> tuple[dict[str, str], str]:
    """Short escaped tick labels of ``path=value, ...`` settings, and the x-axis title.

    One varied path: ticks are its values and the path is the title. Several: each path is cut
    to its last two parts (``manufacturing.capacity=2``), one per line.
    """
    parts = {s: [p.partition("=") for p in s.split(", ")] for s in settings}
    paths = {path for split in parts.values() for path, _, _ in split}
    if len(paths) == 1 and all(len(split) == 1 and split[0][1] for split in parts.values()):
        return {s: esc(split[0][2]) for s, split in parts.items()}, esc(paths.pop())
    short = {
        s: "<br>".join(esc(".".join(p.split(".")[-2:]) + eq + v) for p, eq, v in split)
        for s, split in parts.items()
    }
    return short, "setting"


def _sweep_trace(one: pd.DataFrame, name: str, i: int) -> go.Scatter:
    error = None
    if {"ci_low", "ci_high"} <= set(one.columns):
        error = {
            "type": "data",
            "array": _f32(one["ci_high"] - one["mean"]),
            "arrayminus": _f32(one["mean"] - one["ci_low"]),
        }
    return go.Scatter(
        x=list(one["setting"]),
        y=_f32(one["mean"]),
        error_y=error,
        name=name,
        legendgroup=str(i),
        mode="lines+markers",
        line={"color": _colour(i)},
    )
