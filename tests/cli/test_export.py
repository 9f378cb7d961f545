"""``--export csv|xlsx``: every table of a run folder for a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from builders import cartsim, scenario_dict

from cartsim.report.export import export_tables


def test_run_exports_every_table_as_a_workbook_pandas_can_open(tmp_path: Path, write_yaml) -> None:
    path = write_yaml(scenario_dict())
    out = tmp_path / "run"
    result = cartsim("run", str(path), "--out", str(out), "--no-report", "--export", "xlsx")
    assert result.returncode == 0, result.stderr
    sheets = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    saved = sorted(p.stem for p in out.glob("*.parquet"))
    assert sorted(sheets) == saved and "kpis_by_year" in saved
    kpis = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(sheets["kpis"], kpis, check_dtype=False)


def test_csv_export_writes_one_file_per_table(tmp_path: Path, write_yaml) -> None:
    path = write_yaml(scenario_dict())
    out = tmp_path / "run"
    result = cartsim("run", str(path), "--out", str(out), "--no-report", "--no-events")
    assert result.returncode == 0, result.stderr
    lines: list[str] = []
    written = export_tables(out, "csv", say=lines.append)
    assert written == out / "export" and lines == [f"exported: {written}"]
    names = sorted(p.stem for p in (out / "export").glob("*.csv"))
    assert names == sorted(p.stem for p in out.glob("*.parquet"))
    by_year = pd.read_csv(out / "export" / "kpis_by_year.csv")
    saved = pd.read_parquet(out / "kpis_by_year.parquet")
    pd.testing.assert_frame_equal(by_year, saved, check_dtype=False)


def test_an_unknown_export_format_is_refused_before_running(tmp_path: Path, write_yaml) -> None:
    path = write_yaml(scenario_dict())
    out = tmp_path / "run"
    result = cartsim("run", str(path), "--out", str(out), "--export", "ods")
    assert result.returncode == 2
    assert "ods" in result.stderr and not out.exists()
