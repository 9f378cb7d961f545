"""A run folder is untrusted input: crafted text is shown as text, a bad folder is one line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import assert_user_error, cartsim

from cartsim.inputs.errors import CartsimError
from cartsim.report.html import write_report
from cartsim.report.plots.common import esc

SCRIPT = "<script>alert('name')</script>"
IMG = "<img src=x onerror=alert('arm')>"
SOURCE = "<script>alert('source')</script>"
KEY = "<img src=x onerror=alert('key')>"
PAYLOADS = (SCRIPT, IMG, SOURCE, KEY)


def crafted_manifest() -> dict[str, Any]:
    """A manifest whose names, labels, sources and distribution-spec keys carry markup."""
    stage = {"name": IMG, "kind": "activity", "resource": SCRIPT, "duration": {"dist": "normal"}}
    stage["duration"] |= {KEY: 1.0, "mean": 2.0}
    return {
        "cartsim_version": SCRIPT,
        "seed": 3,
        "replications": 2,
        "command_line": ["cartsim", "run", SCRIPT],
        "started": IMG,
        "scenario_files": {SCRIPT: IMG},
        "versions": {IMG: SCRIPT},
        "scenario": {
            "name": SCRIPT,
            "description": IMG,
            "currency": SCRIPT,
            "run": {"warmup_days": 0, "horizon_days": 400},
            "demand": {IMG: {"rate_per_year": 3, "age": {"dist": "normal", KEY: 40}}},
            "resources": {SCRIPT: {"capacity": 1, "calendar": {"open_days": [IMG]}}},
            "arms": {IMG: {"label": SCRIPT, "stages": [stage], "outcomes": {KEY: {"trm": 0.1}}}},
            "parameters": {
                KEY: {"value": 1.0, "source": SOURCE, "status": IMG, "psa": {"dist": "x", KEY: 1}}
            },
        },
        "parameters_used": [KEY],
    }


def patients(arms: tuple[str, ...]) -> pd.DataFrame:
    n = 6
    return pd.DataFrame(
        {
            "replication": np.tile([0, 1], n // 2 * len(arms)),
            "arm": np.repeat(arms, n),
            "patient_id": np.arange(n * len(arms)),
            "disease": KEY,
            "status": ["completed", SCRIPT] * (n // 2 * len(arms)),
            "arrival_day": 10.0,
            "treatment_day": [40.0, np.nan] * (n // 2 * len(arms)),
            "response": pd.array([True, pd.NA] * (n // 2 * len(arms)), dtype="boolean"),
            "relapse_day": np.nan,
            "death_day": [300.0, np.nan] * (n // 2 * len(arms)),
            "wait_days": 1.0,
            f"wait_{IMG}_days": 2.0,
            "cost_total": 100.0,
            f"cost_{SCRIPT}": 100.0,
        }
    )


def kpis(arms: tuple[str, ...]) -> pd.DataFrame:
    rows = [(a, m, 1.0, 0.5, 1.5, 2) for a in arms for m in ("treated", f"utilisation_{IMG}")]
    return pd.DataFrame(
        rows, columns=["arm", "metric", "mean", "ci_low", "ci_high", "n_replications"]
    )


def write_folder(folder: Path, manifest: Any = None, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = crafted_manifest() if manifest is None else manifest
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    arms = (IMG, SCRIPT)
    return write_folder(tmp_path / "crafted", patients=patients(arms), kpis=kpis(arms))


def test_crafted_text_is_escaped_everywhere(crafted: Path) -> None:
    html = write_report(crafted).read_text(encoding="utf-8")
    for payload in PAYLOADS:
        assert payload not in html, payload
        assert esc(payload) in html, payload
    assert "onerror=alert" not in html.replace(esc(IMG), "").replace(esc(KEY), "")
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    figures = [s for s in scripts if "Plotly.newPlot(" in s]
    assert figures and all("<img" not in s and "<script" not in s for s in figures)
    assert html.count("<script") == len(scripts) == len(figures) + 3  # config, plotly.js, filter
    assert int(re.search(r'data-figures="(\d+)"', html).group(1)) >= 3  # type: ignore[union-attr]


def test_the_escape_shows_none_and_nan_as_nothing() -> None:
    assert esc(None) == "" and esc(float("nan")) == ""
    assert esc("<a href='x'>&") == "&lt;a href=&#39;x&#39;&gt;&amp;"
    assert esc(0) == "0" and esc(0.0) == "0.0"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scenario": {"arms": ["cart"]}}, "scenario.arms"),
        ({"scenario": {"name": {"nested": 1}}}, "scenario.name"),
        ({"command_line": "rm -rf /"}, "command_line"),
        ({"scenario": {"parameters": {"p": {"psa": {"mean": 1}}}}}, "scenario.parameters.p.psa"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path: Path, change: dict, field: str):
    folder = write_folder(tmp_path / "bad", {**crafted_manifest(), **change})
    with pytest.raises(CartsimError, match=re.escape(field)) as error:
        write_report(folder)
    assert "\n" not in str(error.value) and "manifest.json" in str(error.value)


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        ("patients", {"status": 1}, "patients.parquet: column status is not text"),
        ("patients", {"arm": None}, "patients.parquet: column arm has missing values"),
        ("patients", {"response": "yes"}, "patients.parquet: column response is not true/false"),
        ("patients", {"treatment_day": "soon"}, "patients.parquet: column treatment_day is not"),
        ("kpis", {"mean": True}, "kpis.parquet: column mean is not numeric"),
    ],
)
def test_a_table_of_the_wrong_kind_is_one_line(
    tmp_path: Path, table: str, change: dict[str, Any], message: str
) -> None:
    arms = ("cart",)
    tables = {"patients": patients(arms), "kpis": kpis(arms)}
    tables[table] = tables[table].assign(**change)
    folder = write_folder(tmp_path / "bad", **tables)
    with pytest.raises(CartsimError, match=re.escape(message)):
        write_report(folder)


def test_the_command_line_refuses_bad_folders_in_one_line(tmp_path: Path) -> None:
    arms = ("cart",)
    bad = {
        "no-manifest": (tmp_path / "no-manifest", "manifest.json"),
        "not-json": (write_folder(tmp_path / "not-json", "{not json"), "manifest.json"),
        "shape": (write_folder(tmp_path / "shape", {"scenario": []}), "scenario"),
        "columns": (
            write_folder(tmp_path / "columns", patients=patients(arms).drop(columns="status")),
            "patients.parquet",
        ),
        "types": (
            write_folder(tmp_path / "types", kpis=kpis(arms).assign(mean="many")),
            "kpis.parquet",
        ),
    }
    (tmp_path / "no-manifest").mkdir()
    (tmp_path / "not-parquet").mkdir()
    write_folder(tmp_path / "not-parquet")
    (tmp_path / "not-parquet" / "resources.parquet").write_text("not parquet")
    bad["not-parquet"] = (tmp_path / "not-parquet", "resources.parquet")
    binary = write_folder(tmp_path / "binary", "")
    (binary / "manifest.json").write_bytes(b"\xff\xfe\x00{")
    bad["binary"] = (binary, "not UTF-8")
    for name, (folder, needle) in bad.items():
        result = cartsim("report", str(folder))
        assert_user_error(result, needle)
        assert not (folder / "report.html").exists(), name


def test_an_empty_manifest_gives_a_report_that_says_what_is_missing(tmp_path: Path) -> None:
    html = write_report(write_folder(tmp_path / "empty", {})).read_text(encoding="utf-8")
    assert 'data-figures="0"' in html
    assert "No KPI table" in html and "The scenario lists no parameters." in html
    assert "not stated" in html  # the checklists say so rather than fail


def test_tables_are_written_by_one_macro_and_only_figures_are_marked_safe() -> None:
    from importlib.resources import files

    templates = files("cartsim.report") / "templates"
    sources = {t.name: t.read_text(encoding="utf-8") for t in templates.iterdir()}
    assert [n for n, text in sources.items() if "<table" in text] == ["macros.html.j2"]
    assert sources["macros.html.j2"].count("<table") == 1
    assert not any("|safe" in t.replace(" ", "") for t in sources.values())
