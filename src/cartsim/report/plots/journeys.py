"""Journeys of a sample of patients: a Gantt chart of stage visits and queue waits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cartsim.report.plots.common import _colour, _f32, _finish, esc, has_columns


def _paired(ev: pd.DataFrame, opens: Sequence[str], closes: Sequence[str]) -> pd.DataFrame:
    """The k-th opening event of each (arm, patient, stage, resource) with its k-th closing."""
    keys = ["arm", "patient_id", "stage", "resource"]
    parts = []
    for names in (opens, closes):
        part = ev[ev["event"].isin(names)].sort_values("time", kind="stable").copy()
        part["k"] = part.groupby(keys, observed=True, dropna=False).cumcount()
        parts.append(part[[*keys, "k", "time"]])
    out = parts[0].merge(parts[1], on=[*keys, "k"], suffixes=("_start", "_end"))
    return out[out["time_end"] >= out["time_start"]]


def _journey_sample(events: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    ev = events.copy()
    if "arm" not in ev:
        ev["arm"] = ""
    for col in ("arm", "stage", "event", "resource"):
        ev[col] = ev[col].astype(object).where(ev[col].notna(), None)
    if "replication" in ev:
        ev = ev[ev["replication"] == ev["replication"].min()]
    arms = list(pd.unique(ev["arm"]))
    rng = np.random.default_rng(seed)
    keep = []
    for arm in arms:
        ids = np.sort(pd.unique(ev.loc[ev["arm"] == arm, "patient_id"]))
        pick = rng.choice(ids, size=min(len(ids), max(1, n // len(arms))), replace=False)
        mine = ev[(ev["arm"] == arm) & ev["patient_id"].isin(pick)]
        keep.append(mine.sort_values(["patient_id", "time"], kind="stable"))
    out = pd.concat(keep, ignore_index=True)
    who = [out["arm"], out["patient_id"]]
    referral = out["time"].where(out["event"] == "referral")
    start = referral.groupby(who).transform("min").fillna(out["time"].groupby(who).transform("min"))
    return out.assign(time=out["time"] - start)


def _row_label(frame: pd.DataFrame) -> pd.Series:
    arm = frame["arm"].map(lambda a: f"{esc(a)} · " if a else "")
    return arm + "patient " + frame["patient_id"].astype(int).astype(str)


def _bar_label(stage: Any, resource: Any) -> str:
    if resource is None or resource == stage:
        return esc(stage)
    return f"{esc(stage)} ({esc(resource)})"


def plot_journeys(events: pd.DataFrame | None, n: int = 30, seed: int = 0) -> go.Figure | None:
    """Gantt chart of a sample of patients: one bar per stage visit and per wait in a queue.

    Parameters
    ----------
    events : DataFrame
        ``events.parquet``: ``patient_id, stage, event, time`` (days) and optionally
        ``replication, arm, resource``. Only the first replication is drawn.
    n : int, default 30
        Number of patients drawn, shared equally between arms.
    seed : int, default 0
        Seed of the sample of patients (a display choice, not a model stream).

    Returns
    -------
    Figure or None
        None when the event log is absent or lacks a column.
    """
    if not has_columns(events, "patient_id", "stage", "event", "time"):
        return None
    assert events is not None
    ev = _journey_sample(events.assign(resource=events.get("resource")), n, seed)
    visits = _paired(ev, ["start"], ["end"])
    waits = _paired(ev, ["queue"], ["start", "leave_queue"])
    waits = waits[waits["time_end"] > waits["time_start"]]
    rows = _row_label(ev.drop_duplicates(["arm", "patient_id"]))
    fig = go.Figure()
    _gantt_trace(fig, waits, "waiting in queue", "rgba(120,120,120,0.45)")
    visits["label"] = [
        _bar_label(s, r) for s, r in zip(visits["stage"], visits["resource"], strict=True)
    ]
    for i, label in enumerate(pd.unique(visits["label"])):
        _gantt_trace(fig, visits[visits["label"] == label], label, _colour(i))
    treat = ev[ev["event"] == "treatment"]
    if len(treat):
        fig.add_trace(
            go.Scatter(
                x=_f32(treat["time"]),
                y=_row_label(treat),
                mode="markers",
                name="treatment",
                marker={"symbol": "diamond", "size": 9, "color": "black"},
                hovertemplate="treatment, day %{x:.1f} after referral<extra></extra>",
            )
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(rows)[::-1], title_text="patient")
    fig.update_xaxes(title_text="time since referral (days)", rangemode="tozero")
    title = f"Journeys of {len(rows)} sampled patients from referral (first replication)"
    return _finish(fig, title, height=max(420, 22 * len(rows) + 180), barmode="overlay")


def _gantt_trace(fig: go.Figure, bars: pd.DataFrame, name: str, colour: str) -> None:
    if not len(bars):
        return
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=_row_label(bars),
            base=_f32(bars["time_start"]),
            x=_f32(bars["time_end"] - bars["time_start"]),
            name=name,
            marker_color=colour,
            hovertemplate=f"{name}<br>from day %{{base:.1f}}: %{{x:.1f}} days<extra></extra>",
        )
    )
