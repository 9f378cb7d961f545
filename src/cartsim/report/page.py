"""The report page's building blocks: sections of blocks, and numbered figures.

A block is the data one template part renders; figures are numbered as they are added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


Block = dict[str, Any]


@dataclass
class Section:
    """A part of the report: an anchor, a heading and its blocks (data for the template)."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    """Figures are numbered as they are added; ``count`` ends on ``<body data-figures>``."""

    count: int = 0

    def figure(self, fig: go.Figure | None, caption: str, missing: str = "") -> Block:
        """A figure block, or a note that it is missing (an empty note: nothing shown)."""
        if fig is None:
            return {"kind": "missing", "text": missing} if missing else {"kind": "none"}
        self.count += 1
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.count == 1,  # plotly.js once, before the first figure's script
            config=PLOTLY_CONFIG,
            div_id=f"figure-{self.count}",
        )
        # The only markup let through unescaped: plotly's own HTML and script. Every text in it
        # (titles, labels, hover text) was escaped with plots.common.esc before the figure was
        # built, and plotly writes the figure's data as JSON, escaped for a script element.
        return {"kind": "figure", "number": self.count, "html": Markup(div), "caption": caption}
