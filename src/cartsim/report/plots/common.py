"""Shared helpers of the figures: escaping, table checks, arms, colours, layout and units.

Plots only group, count and average what the tables already hold (and, for the outcome curves,
read Kaplan-Meier steps off the patient table); they never simulate. A plot whose table or
optional columns are absent returns ``None`` instead of raising, so the report can leave it out.
Every label taken from a table (arm, disease, resource, stage, parameter names) is HTML-escaped
with :func:`esc`, because plotly renders a subset of HTML in titles, legends, tick labels and
hover text. :func:`esc` is the package's one escape: the report's templates escape with the same
rule (:func:`shown`, then ``markupsafe.escape``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape
from plotly.colors import qualitative

PALETTE = qualitative.Safe + qualitative.Vivid
TEMPLATE = "plotly_white"


def shown(value: object) -> object:
    """What the page shows for ``value``: None and NaN as an empty string, anything else as is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def esc(value: object) -> str:
    """``value`` as text that plotly and HTML show literally (None and NaN: empty)."""
    return str(escape(shown(value)))


def has_columns(frame: pd.DataFrame | None, *columns: str) -> bool:
    """True when ``frame`` exists, has rows and holds every one of ``columns``."""
    return frame is not None and len(frame) > 0 and all(c in frame.columns for c in columns)


def metric_unit(metric: str, money: str = "EUR") -> str:
    """The unit of a KPI or sweep metric, read off its name."""
    name = metric.lower()
    if name.endswith("_days"):
        return "days"
    if "cost" in name or "nmb" in name:
        return money
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
