"""The validation table for the terminal: simulated value, published interval and verdict."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

KIND = {"95% CI": "95% CI", "approximate 95% CI": "≈95% CI", "range": "range"}
SHARED = "*"


def validation_text_table(table: pd.DataFrame, title: str) -> Table:
    """Per target: the simulated mean with its 95% CI, the published interval and the verdict.

    Every row of ``table`` (the ``validation.parquet`` table) is shown, outside or not. A target
    whose publication also gave an input (another figure of the same trial) is marked ``*``.
    """
    caption = (
        f"{SHARED} the publication also gave an input (another figure): partly dependent. "
        "Intervals: simulated, 95% t-interval over replications; published, as marked "
        "(≈95% CI: binomial approximation; direction: the sign only)."
    )
    out = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    out.add_column("target", no_wrap=True)
    out.add_column("simulated (95% CI)", justify="right")
    out.add_column("published", justify="right")
    out.add_column("verdict")
    for _, r in table.iterrows():
        sim = (
            f"{r['simulated']:.3f} ({r['simulated_low']:.3f}, {r['simulated_high']:.3f})"
            if pd.notna(r["simulated_low"])
            else "—"
        )
        low, high = r["target_low"], r["target_high"]
        if r["interval_kind"] == "direction":
            published = "≤ 0" if high <= 0 else "≥ 0" if low >= 0 else f"[{low:g}, {high:g}]"
        else:
            kind = KIND.get(str(r["interval_kind"]), str(r["interval_kind"]))
            published = f"{r['target_value']:.2f} ({low:.2f}, {high:.2f}) {kind}"
        where = r["position"]
        verdict = r["verdict"] if where in ("—", "unknown") else f"{r['verdict']} ({where})"
        name = f"{r['target']}{SHARED if r['shares_source_with'] else ''}"
        out.add_row(name, sim, published, verdict)
    return out
