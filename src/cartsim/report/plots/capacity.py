"""Capacity figures: patient flow, resource use over time and waiting times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cartsim.decide.stats import t_half_width
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

STATUS_LABELS = {
    "completed": "treated",
    "died_waiting": "died while waiting",
    "dropped_out": "dropped out while waiting",
    "failed": "product failed, untreated",
    "not_eligible": "not eligible",
    "in_progress": "still waiting at horizon",
}


def _flow_nodes(p: pd.DataFrame) -> list[tuple[str, int, float]]:
    """Sankey nodes ``(label, column, mean patients per replication)``; column 0 is referral."""
    reps = _n_replications(p)
    treated = p["treatment_day"].notna() if "treatment_day" in p else p["status"] == "completed"
    status = p["status"].astype(str).map(lambda s: STATUS_LABELS.get(s, esc(s)))
    counts = status.where(~treated, "treated").value_counts()
    order = list(dict.fromkeys(["treated", *STATUS_LABELS.values(), *counts.index]))
    nodes = [("referred", 0, len(p) / reps)]
    nodes += [(name, 1, counts[name] / reps) for name in order if counts.get(name, 0)]
    if "response" in p.columns:
        response = p.loc[treated, "response"].astype("boolean")
        for name, flag in (("response", True), ("no response", False)):
            count = int((response == flag).fillna(False).sum())
            if count:
                nodes.append((name, 2, count / reps))
    return nodes


def _sankey(nodes: list[tuple[str, int, float]], name: str, visible: bool) -> go.Sankey:
    """A Sankey with each node in its column; links run from column 0, or 'treated', onward."""
    columns = max(c for _, c, _ in nodes) + 1
    scale = max(sum(v for _, c, v in nodes if c == k) for k in range(columns)) * 1.15
    x, y, filled = [], [], dict.fromkeys(range(columns), 0.0)
    for _, col, value in nodes:
        x.append(0.001 + 0.998 * col / max(columns - 1, 1))
        y.append(0.001 + filled[col] + value / scale / 2)
        filled[col] += value / scale + 0.05
    parent = {1: 0, 2: next((i for i, n in enumerate(nodes) if n[0] == "treated"), 0)}
    links = [(parent[c], i, v) for i, (_, c, v) in enumerate(nodes) if c > 0]
    return go.Sankey(
        name=name,
        visible=visible,
        arrangement="snap",
        valueformat=".1f",
        valuesuffix=" patients per replication",
        node={
            "label": [f"{label} ({value:.1f})" for label, _, value in nodes],
            "x": x,
            "y": y,
            "pad": 20,
            "color": [_colour(j) for j in range(len(nodes))],
        },
        link={
            "source": [a for a, _, _ in links],
            "target": [b for _, b, _ in links],
            "value": _f32([v for _, _, v in links]),
        },
    )


def plot_patient_flow(patients: pd.DataFrame | None) -> go.Figure | None:
    """Sankey of referred patients to their status and, when known, their response.

    Parameters
    ----------
    patients : DataFrame
        ``patients.parquet``: ``arm, status`` and optionally ``replication, treatment_day,
        response``. Flows are mean patients per replication. One Sankey per arm, chosen from a
        dropdown when there are several arms.

    Returns
    -------
    Figure or None
        None when the table or its ``status`` column is missing.
    """
    if not has_columns(patients, "status"):
        return None
    assert patients is not None
    fig = go.Figure()
    arms = _arms(patients)
    for i, arm in enumerate(arms):
        fig.add_trace(_sankey(_flow_nodes(_of_arm(patients, arm)), esc(arm), i == 0))
    menus = []
    if len(arms) > 1:
        buttons = [
            {
                "label": esc(arm),
                "method": "update",
                "args": [{"visible": [j == i for j in range(len(arms))]}],
            }
            for i, arm in enumerate(arms)
        ]
        menus = [{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.15, "active": 0}]
    title = "Patient flow: referral → status → response (mean patients per replication)"
    return _finish(fig, title, updatemenus=menus)


def _band_stats(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Mean over replications and its 95% t-interval band (:func:`~cartsim.decide.stats.mean_ci`),
    not below 0; a bin of one replication has no band."""
    stats = frame.groupby("bin")[value].agg(["mean", "std", "count"]).reset_index()
    half = np.nan_to_num(t_half_width(stats["std"], stats["count"]))
    stats["low"], stats["high"] = (stats["mean"] - half).clip(lower=0.0), stats["mean"] + half
    return stats


def _band_traces(stats: pd.DataFrame, name: str, colour: str, show: bool) -> list[go.Scatter]:
    x = stats["bin"].to_numpy()
    band = go.Scatter(
        x=np.concatenate([x, x[::-1]]),
        y=_f32(np.concatenate([stats["high"], stats["low"][::-1]])),
        fill="toself",
        fillcolor=colour,
        opacity=0.2,
        line={"width": 0},
        hoverinfo="skip",
        legendgroup=name,
        showlegend=False,
    )
    line = go.Scatter(
        x=x,
        y=_f32(stats["mean"]),
        name=name,
        legendgroup=name,
        showlegend=show,
        line={"color": colour, "width": 1.5},
        hovertemplate=f"{name}<br>day %{{x}}: %{{y:.2f}}<extra></extra>",
    )
    return [band, line]


def plot_resource_use(resources: pd.DataFrame | None, bin_days: int = 7) -> go.Figure | None:
    """Resources in use and queue lengths over time, per resource and arm, with 95% bands.

    Parameters
    ----------
    resources : DataFrame
        ``resources.parquet``: ``resource, day, in_use, queue_length`` and optionally
        ``replication, arm, capacity``.
    bin_days : int, default 7
        Width of the time bins (days) over which daily means are averaged for display.

    Returns
    -------
    Figure or None
        One row per resource: in use (left) with capacity dashed, queue length (right); lines are
        means over replications with a 95% t-interval band (mean +/- t sd / sqrt(n)); an arm
        that never uses a resource has no line there. None when a column is missing.
    """
    if not has_columns(resources, "resource", "day", "in_use", "queue_length"):
        return None
    assert resources is not None
    frame = resources.assign(bin=(resources["day"] // bin_days) * bin_days)
    if "replication" not in frame:
        frame = frame.assign(replication=0)
    names = list(pd.unique(frame["resource"].astype(str)))
    titles = [f"{esc(r)}: {what}" for r in names for what in ("in use", "queue")]
    fig = make_subplots(rows=len(names), cols=2, subplot_titles=titles, shared_xaxes=True)
    for i, arm in enumerate(_arms(frame)):
        mine = _of_arm(frame, arm)
        show = True  # the legend entry goes with the arm's first drawn line
        for row, res in enumerate(names, start=1):
            one = mine[mine["resource"].astype(str) == res]
            if not one[["in_use", "queue_length"]].to_numpy().any():
                continue  # this arm's pathway never uses the resource
            per_rep = one.groupby(["replication", "bin"])[["in_use", "queue_length"]].mean()
            for col, value in enumerate(("in_use", "queue_length"), start=1):
                stats = _band_stats(per_rep.reset_index(), value)
                for trace in _band_traces(stats, esc(arm) or "mean", _colour(i), show):
                    fig.add_trace(trace, row=row, col=col)
                show = False
    _add_capacity(fig, frame, names)
    for row in range(1, len(names) + 1):
        fig.update_yaxes(title_text="in use (patients)", rangemode="tozero", row=row, col=1)
        fig.update_yaxes(title_text="queue (patients)", rangemode="tozero", row=row, col=2)
    fig.update_xaxes(title_text="time (days)", row=len(names))
    title = f"Resource use over time ({bin_days}-day means; band: 95% CI over replications)"
    return _finish(fig, title, height=230 * len(names) + 140)


def _add_capacity(fig: go.Figure, frame: pd.DataFrame, names: list[str]) -> None:
    if "capacity" not in frame.columns:
        return
    for row, res in enumerate(names, start=1):
        cap = frame[frame["resource"].astype(str) == res].groupby("bin")["capacity"].max()
        if not np.isfinite(cap.to_numpy(dtype=float)).all():
            continue
        fig.add_trace(
            go.Scatter(
                x=cap.index.to_numpy(),
                y=_f32(cap),
                name="capacity",
                legendgroup="capacity",
                showlegend=row == 1,
                line={"color": "#444", "dash": "dash", "width": 1},
                hovertemplate="capacity %{y}<extra></extra>",
            ),
            row=row,
            col=1,
        )


def _box_stats(values: pd.Series) -> dict[str, float]:
    """Quartiles, Tukey whiskers (furthest data within 1.5 IQR) and mean of ``values``."""
    v = values.dropna().to_numpy(dtype=float)
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    low = v[v >= q1 - 1.5 * iqr].min()
    high = v[v <= q3 + 1.5 * iqr].max()
    return {
        "q1": q1,
        "median": median,
        "q3": q3,
        "lowerfence": low,
        "upperfence": high,
        "mean": v.mean(),
    }


def _wait_columns(patients: pd.DataFrame) -> tuple[list[str], list[str]]:
    stages = [c for c in patients.columns if c.startswith("wait_") and c.endswith("_days")]
    stages = [c for c in stages if c != "wait_days" and patients[c].notna().any()]
    overall = [
        c
        for c in ("vein_to_vein_days", "referral_to_treatment_days")
        if c in patients.columns and patients[c].notna().any()
    ]
    return stages, overall


def _wait_label(column: str) -> str:
    if column.startswith("wait_"):
        return esc(column.removeprefix("wait_").removesuffix("_days"))
    return column.removesuffix("_days").replace("_", " ").replace("vein to vein", "vein-to-vein")


def plot_waits(patients: pd.DataFrame | None) -> go.Figure | None:
    """Distributions of the wait for each stage and of vein-to-vein time, per arm (box plots).

    Parameters
    ----------
    patients : DataFrame
        ``patients.parquet`` with ``wait_<stage>_days`` (NaN when the patient never queued for
        the stage) and optionally ``vein_to_vein_days``, ``referral_to_treatment_days``, ``arm``.

    Returns
    -------
    Figure or None
        Boxes of quartiles with whiskers to the furthest patient within 1.5 IQR; the dashed
        line is the mean. None when no wait column holds a value.
    """
    if patients is None or not len(patients):
        return None
    stages, overall = _wait_columns(patients)
    if not stages and not overall:
        return None
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        subplot_titles=["Wait for each stage", "Whole pathway"],
    )
    for i, arm in enumerate(_arms(patients)):
        mine = _of_arm(patients, arm)
        for col, columns in ((1, stages), (2, overall)):
            cols = [c for c in columns if mine[c].notna().any()]
            if not cols:
                continue
            stats = [_box_stats(mine[c]) for c in cols]
            fig.add_trace(
                go.Box(
                    x=[_wait_label(c) for c in cols],
                    name=esc(arm) or "all",
                    legendgroup=str(i),
                    showlegend=col == 1 or not stages,
                    marker_color=_colour(i),
                    boxmean=True,
                    **{k: _f32([s[k] for s in stats]) for k in stats[0]},
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text="days", rangemode="tozero")
    fig.update_xaxes(title_text="stage", row=1, col=1)
    title = "Waiting times and vein-to-vein time per patient (days)"
    return _finish(fig, title, boxmode="group")
