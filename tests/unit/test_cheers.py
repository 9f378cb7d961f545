"""CHEERS 2022 in the model description: all 28 items, numbered and titled as published, each
with text from the run or "not applicable" with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cartsim.inputs.loading import load
from cartsim.inputs.money import tables
from cartsim.report.describe import cheers_items, cheers_rows

SCENARIO = Path(__file__).parents[2] / "scenarios" / "cart_vs_asct.yaml"
# Husereau et al., Value Health 2022;25:3-9, doi:10.1016/j.jval.2021.11.351 (Table 1)
PUBLISHED = {
    1: "Title",
    2: "Abstract",
    3: "Background and objectives",
    4: "Health economic analysis plan",
    5: "Study population",
    6: "Setting and location",
    7: "Comparators",
    8: "Perspective",
    9: "Time horizon",
    10: "Discount rate",
    11: "Selection of outcomes",
    12: "Measurement of outcomes",
    13: "Valuation of outcomes",
    14: "Measurement and valuation of resources and costs",
    15: "Currency, price date and conversion",
    16: "Rationale and description of model",
    17: "Analytics and assumptions",
    18: "Characterising heterogeneity",
    19: "Characterising distributional effects",
    20: "Characterising uncertainty",
    21: "Approach to engagement with patients and others affected by the study",
    22: "Study parameters",
    23: "Summary of main results",
    24: "Effect of uncertainty",
    25: "Effect of engagement with patients and others affected by the study",
    26: "Study findings, limitations, generalisability and current knowledge",
    27: "Source of funding",
    28: "Conflicts of interest",
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    scenario = load(SCENARIO).build().model_dump(mode="json")
    return json.loads(json.dumps({"scenario": scenario}))


def test_all_28_items_are_numbered_and_titled_as_published(manifest) -> None:
    items = cheers_items(manifest, [], True)
    assert [(n, title) for n, title, _ in items] == list(PUBLISHED.items())
    rows = cheers_rows(manifest, [], True)
    assert [r[0]["text"] for r in rows] == [f"{n} {t}" for n, t in PUBLISHED.items()]


@pytest.mark.parametrize("economics", [True, False])
def test_every_item_has_text_and_a_reason_when_not_applicable(manifest, economics) -> None:
    if not economics:
        manifest = {"scenario": {**manifest["scenario"], "economics": None}}
    for n, _, text in cheers_items(manifest, [], economics):
        assert text.strip(), n
        if text.startswith("not applicable"):
            assert len(text.removeprefix("not applicable: ").strip()) > 10, n


def test_items_are_filled_from_the_run(manifest) -> None:
    items = {n: text for n, _, text in cheers_items(manifest, ["scenario analyses"], True)}
    s = manifest["scenario"]
    assert s["economics"]["perspective"] in items[8]
    assert items[9] == "lifetime"
    assert "3.0%" in items[10]
    assert "EUR 2024" in items[15]
    assert all(arm in items[7] for arm in s["arms"])
    assert "scenario analyses" in items[20] and "scenario analyses" in items[24]
    assert f"{len(s['parameters'])} parameters" in items[22]


def test_main_results_come_from_the_incremental_table(manifest) -> None:
    incremental = pd.DataFrame(
        {
            "population": ["all", "SLE", "all"],
            "analysis": ["pairwise", "pairwise", "fully incremental"],
            "intervention": ["cart", "cart", "cart"],
            "comparator": ["soc", "soc", "soc"],
            "delta_cost": [-12345.0, 1.0, 2.0],
            "delta_qaly": [2.5, 1.0, 1.0],
            "inmb": [137345.0, 1.0, 1.0],
            "inmb_ci_low": [100000.0, 0.0, 0.0],
            "inmb_ci_high": [170000.0, 2.0, 2.0],
        }
    )
    items = {n: text for n, _, text in cheers_items(manifest, [], True, incremental)}
    assert "cart vs soc" in items[23] and "137,345" in items[23] and "100,000" in items[23]
    assert items[23].count(" vs ") == 1  # all patients, pairwise only
    assert "per disease" in items[18]


def test_item_15_states_the_conversion_of_a_scenario_in_other_money(manifest) -> None:
    items = {n: text for n, _, text in cheers_items(manifest, [], True)}
    assert items[15].startswith("EUR 2024") and "no conversion" in items[15]
    nice = load(SCENARIO.parent / "nice_reference_case.yaml").build().model_dump(mode="json")
    items = {n: text for n, _, text in cheers_items({"scenario": nice}, [], True)}
    rate = tables().factor("EUR", 2024, "GBP", 2024)
    assert items[15].startswith("GBP 2024") and "no conversion" not in items[15]
    assert "in euro of 2024 are shown in GBP 2024" in items[15]
    assert f"multiplied by {rate:.6g}" in items[15] and "EUR" not in items[15]
