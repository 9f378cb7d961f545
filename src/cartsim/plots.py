"""Figures of a run's result tables: each ``plot_*`` takes tables and returns a plotly Figure.

Plots only group, count and average what the tables already hold (and, for the outcome curves,
read Kaplan-Meier steps off the patient table); they never simulate. A plot whose table or
optional columns are absent returns ``None`` instead of raising, so the report can leave it out.
Every label taken from a table (arm, disease, resource, stage, parameter names) is HTML-escaped,
because plotly renders a subset of HTML in titles, legends and tick labels.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

PALETTE = qualitative.Safe + qualitative.Vivid
TEMPLATE = "plotly_white"
STATUS_LABELS = {
    "completed": "treated",
    "died_waiting": "died while waiting",
    "dropped_out": "dropped out while waiting",
    "failed": "product failed, untreated",
    "not_eligible": "not eligible",
    "in_progress": "still waiting at horizon",
}
Z95 = 1.96
DAYS_PER_YEAR = 365.25


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def esc(value: object) -> str:
    """``value`` as text that plotly and HTML show literally."""
    return html.escape(str(value))


def has_columns(frame: pd.DataFrame | None, *columns: str) -> bool:
    """True when ``frame`` exists, has rows and holds every one of ``columns``."""
    return frame is not None and len(frame) > 0 and all(c in frame.columns for c in columns)


def metric_unit(metric: str) -> str:
    """The unit of a KPI or sweep metric, read off its name."""
    name = metric.lower()
    if name.endswith("_days"):
        return "days"
    if "cost" in name or "nmb" in name:
        return "EUR"
    if "qaly" in name:
        return "QALYs"
    if name.startswith(("utilisation", "share", "probability")):
        return "share"
    return "patients"


def _arms(frame: pd.DataFrame) -> list[Any]:
    """Arms in table order (category order when the column is categorical)."""
    if "arm" not in frame.columns:
        return [""]
    col = frame["arm"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [a for a in col.cat.categories if (col == a).any()]
    return list(pd.unique(col))


def _of_arm(frame: pd.DataFrame, arm: Any) -> pd.DataFrame:
    return frame if "arm" not in frame.columns else frame[frame["arm"] == arm]


def _n_replications(frame: pd.DataFrame) -> int:
    return int(frame["replication"].nunique()) if "replication" in frame.columns else 1


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _finish(fig: go.Figure, title: str, height: int = 450, **layout: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        template=TEMPLATE,
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        legend={"orientation": "h", "y": -0.18},
        **layout,
    )
    return fig


def _f32(values: Iterable[float] | pd.Series | np.ndarray) -> np.ndarray:
    """Values as float32: half the bytes in the report, far below display precision."""
    return np.asarray(values, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Patient flow
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Capacity
# ---------------------------------------------------------------------------------------------


def _band_stats(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Mean over replications and its 95% band (mean +/- 1.96 sd / sqrt(n), not below 0)."""
    stats = frame.groupby("bin")[value].agg(["mean", "std", "count"]).reset_index()
    half = Z95 * stats["std"].fillna(0.0) / np.sqrt(stats["count"])
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
        means over replications with a band of mean +/- 1.96 sd / sqrt(n); an arm that never
        uses a resource has no line there. None when a column is missing.
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


# ---------------------------------------------------------------------------------------------
# Clinical course
# ---------------------------------------------------------------------------------------------


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
        and disease, x in years (days / 365.25), read at most at 400 times. None when an outcome
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


# ---------------------------------------------------------------------------------------------
# Costs and value
# ---------------------------------------------------------------------------------------------


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
    _wtp_line(fig, 1.1 * reach or 1.0, wtp)
    fig.update_xaxes(title_text="incremental QALYs per patient (QALYs)", zeroline=True)
    fig.update_yaxes(title_text="incremental cost per patient (EUR)", zeroline=True)
    return _finish(fig, "Cost-effectiveness plane (probabilistic sensitivity analysis)")


def _wtp_line(fig: go.Figure, reach: float, wtp: float) -> None:
    x = np.array([-reach, reach], dtype=float)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=x * wtp,
            mode="lines",
            name=f"WTP {wtp:,.0f} EUR per QALY",
            line={"color": "#444", "dash": "dash"},
            hoverinfo="skip",
        )
    )


def plot_ceac(ceac: pd.DataFrame | None) -> go.Figure | None:
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
    fig.update_xaxes(title_text="willingness to pay (EUR per QALY)")
    fig.update_yaxes(title_text="probability cost-effective (share)", range=[0, 1.02])
    return _finish(fig, "Cost-effectiveness acceptability curves")


def plot_evpi(evpi: pd.DataFrame | None) -> go.Figure | None:
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
        fig.update_yaxes(title_text="EVPI, population (EUR)", secondary_y=True)
    fig.update_xaxes(title_text="willingness to pay (EUR per QALY)")
    fig.update_yaxes(title_text="EVPI per patient (EUR)", secondary_y=False)
    return _finish(fig, "Expected value of perfect information")


def plot_tornado(dsa: pd.DataFrame | None, max_parameters: int = 20) -> go.Figure | None:
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
    fig.update_xaxes(title_text="incremental net monetary benefit (EUR)")
    height = sum(min(max_parameters, (frame["comparison"] == c).sum()) for c in comparisons)
    return _finish(
        fig,
        "One-way sensitivity (tornado)",
        height=24 * height + 160 * len(comparisons),
        barmode="overlay",
    )


def plot_sweep(
    sweep: pd.DataFrame | None, metrics: Sequence[str] | None = None
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
        fig.update_yaxes(title_text=metric_unit(str(metric)), row=row, col=col)
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
