"""The validation table for the terminal: simulated value, published interval and verdict."""

from __future__ import annotations

import pandas as pd
from rich.table import Table


def validation_text_table(table: pd.DataFrame, title: str) -> Table:
    """Per target: the simulated mean with its 95% CI, the published interval and the verdict.

    Every row of ``table`` (the ``validation.parquet`` table) is shown, outside or not.
    """
    out = Table(title=title, title_justify="left")
    for column in ("target", "simulated (95% CI)", "published [interval]", "verdict"):
        out.add_column(column, justify="right" if column.startswith(("sim", "pub")) else "left")
    for _, r in table.iterrows():
        sim = (
            f"{r['simulated']:.3f} ({r['simulated_low']:.3f} to {r['simulated_high']:.3f})"
            if pd.notna(r["simulated_low"])
            else "—"
        )
        value = "" if pd.isna(r["target_value"]) else f"{r['target_value']:.2f} "
        published = f"{value}[{r['target_low']:.2f}, {r['target_high']:.2f}] {r['interval_kind']}"
        where = r["position"]
        verdict = r["verdict"] if where in ("—", "unknown") else f"{r['verdict']} ({where})"
        out.add_row(str(r["target"]), sim, published, verdict)
    return out
