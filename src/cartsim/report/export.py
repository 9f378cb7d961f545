"""Every table of a run folder for a spreadsheet: CSV files, or one xlsx workbook (openpyxl).

``export/<table>.csv`` holds each ``<table>.parquet`` of the folder; ``tables.xlsx`` holds one
sheet per table, named after it. Values are as saved (days, counts, money of the scenario's
currency and price year). A table longer than a sheet (1,048,575 rows under the header) is left
out of the workbook with a warning; its CSV file has every row.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

if TYPE_CHECKING:
    pass

from cartsim.runs.atomic import atomic_writer


class ExportKind(enum.StrEnum):
    """How ``--export`` writes the tables."""

    csv = "csv"
    xlsx = "xlsx"


SHEET_ROWS = 1_048_575  # rows of an xlsx sheet under its header row (Office Open XML limit)


def run_tables(folder: Path) -> dict[str, Path]:
    """The saved tables of a run folder by name, in name order."""
    return {path.stem: path for path in sorted(folder.glob("*.parquet"))}


def export_tables(
    folder: Path,
    kind: ExportKind | str | None,
    warn: Callable[[str], object] = print,
    say: Callable[[str], object] = print,
) -> Path | None:
    """Write the tables of ``folder`` as ``csv`` files or one ``xlsx`` workbook; None for no
    export. Returns the folder of CSV files or the workbook."""
    import pandas as pd

    if kind is None:
        return None
    tables = run_tables(folder)
    if ExportKind(kind) is ExportKind.csv:
        out = folder / "export"
        out.mkdir(exist_ok=True)
        for name, path in tables.items():
            with atomic_writer(out / f"{name}.csv") as handle:
                pd.read_parquet(path).to_csv(handle, index=False)
    else:
        out = folder / "tables.xlsx"
        with (
            atomic_writer(out) as handle,
            pd.ExcelWriter(cast(BinaryIO, handle), engine="openpyxl") as book,
        ):
            for name, path in tables.items():
                frame = pd.read_parquet(path)
                if len(frame) > SHEET_ROWS:
                    warn(f"warning: {name} has {len(frame):,} rows, more than a sheet holds")
                    continue
                frame.to_excel(book, sheet_name=name[:31], index=False)
    say(f"exported: {out}")
    return out
