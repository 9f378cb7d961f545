"""Scenario analyses: named overrides run on the base case's patients, checked like ``--set``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cartsim.inputs.errors import CartsimError
from cartsim.inputs.loading import load
from cartsim.runs import studies
from cartsim.runs.scenario_analyses import BASE_CASE, analyses, run_analyses
from tests.builders import assert_user_error, cartsim

SCENARIO = Path(__file__).parents[2] / "scenarios" / "cart_vs_asct.yaml"
SMALL = ["run.arrival_window_days=400", "run.horizon_days=600", "run.warmup_days=0",
         "run.replications=3"]  # fmt: skip


def with_analyses(tmp_path: Path, block: str) -> Path:
    """A scenario extending cart_vs_asct.yaml with more ``scenario_analyses`` (from line 3)."""
    path = tmp_path / "extra.yaml"
    path.write_text(f"extends: [{SCENARIO}]\nscenario_analyses:\n{block}", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    source = load(SCENARIO, SMALL)
    found = analyses(source, source.build(), SMALL)
    keep = {BASE_CASE, "discount_0", "price_minus_30"}
    return run_analyses([a for a in found if a.name in keep], workers=1)


def rows(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["scenario"] == name].set_index("comparison").sort_index()


def test_one_row_per_analysis_and_comparison_against_the_reference(table) -> None:
    assert list(pd.unique(table["scenario"])) == [BASE_CASE, "discount_0", "price_minus_30"]
    for _, part in table.groupby("scenario"):
        assert sorted(part["comparison"]) == [
            "ahsct vs soc",
            "cart vs soc",
            "cart_commercial vs soc",
        ]
    assert (table["delta_cost"] - (table["cost"] - table["comparator_cost"])).abs().max() < 1e-6
    assert (table["delta_qaly"] - (table["qaly"] - table["comparator_qaly"])).abs().max() < 1e-9
    assert (table["inmb_ci_low"] < table["inmb"]).all() and (
        table["inmb"] < table["inmb_ci_high"]
    ).all()
    inmb = table["wtp"] * table["delta_qaly"] - table["delta_cost"]
    assert (inmb - table["inmb"]).abs().max() < 1e-6


def test_analyses_run_on_the_same_patients(table) -> None:
    base, price = rows(table, BASE_CASE), rows(table, "price_minus_30")
    columns = ["cost", "qaly", "comparator_cost", "delta_cost", "inmb", "inmb_ci_low"]
    # a lower commercial price changes nothing else: the same patients and draws
    for arm in ("cart vs soc", "ahsct vs soc"):
        assert price.loc[arm, columns].tolist() == base.loc[arm, columns].tolist()
    commercial = "cart_commercial vs soc"
    assert price.loc[commercial, "qaly"] == base.loc[commercial, "qaly"]
    assert price.loc[commercial, "cost"] < base.loc[commercial, "cost"]
    assert price.loc[commercial, "inmb"] > base.loc[commercial, "inmb"]


def test_undiscounted_analysis_counts_more_qalys(table) -> None:
    base, undiscounted = rows(table, BASE_CASE), rows(table, "discount_0")
    assert (undiscounted["qaly"] > base["qaly"]).all()
    assert (undiscounted["comparator_qaly"] > base["comparator_qaly"]).all()


def test_a_misspelt_path_is_refused_with_file_and_line(tmp_path) -> None:
    path = with_analyses(
        tmp_path, "  typo:\n    description: d\n    set: {economics.discount_rate_cost: 0}\n"
    )
    with pytest.raises(CartsimError) as info:
        load(path)
    line = info.value.line()
    assert f"{path}:5" in line and "scenario_analyses.typo.set.economics.discount_rate_cost" in line
    assert "no such field" in line


def test_an_impossible_value_names_the_analysis_before_anything_runs(tmp_path) -> None:
    path = with_analyses(
        tmp_path, "  bad:\n    description: d\n    set: {economics.discount_rate_costs: 5}\n"
    )
    source = load(path)
    with pytest.raises(CartsimError) as info:
        analyses(source, source.build(), [])
    assert "scenario analysis 'bad'" in info.value.line() and str(path) in info.value.line()


def test_the_seed_may_not_change(tmp_path) -> None:
    path = with_analyses(tmp_path, "  seed:\n    description: d\n    set: {run.seed: 3}\n")
    source = load(path)
    with pytest.raises(CartsimError, match="may not change the seed"):
        analyses(source, source.build(), [])


def test_the_command_refuses_a_misspelt_path_in_one_line(tmp_path) -> None:
    path = with_analyses(tmp_path, "  typo:\n    description: d\n    set: {economix.x: 0}\n")
    out = tmp_path / "out"
    assert_user_error(cartsim("scenarios", str(path), "--out", str(out)), f"{path}:5", "economix")
    assert not out.exists()


def test_a_head_to_head_run_writes_the_net_budget_impact() -> None:
    model = load(SCENARIO, SMALL).build()
    frames = studies.run(model, events=False)
    impact, spend = frames["budget_impact"], frames["budget"]
    assert set(impact["arm"]) == {"cart", "cart_commercial", "ahsct"}
    assert set(impact["reference"]) == {"soc"}
    assert sorted(pd.unique(impact["year"])) == sorted(pd.unique(spend["year"]))
    yearly = spend.groupby(["arm", "year"], observed=True)["cost_total"].mean()
    for row in impact.itertuples():
        expected = yearly[(row.arm, row.year)] - yearly[("soc", row.year)]
        assert row.net_budget_impact == pytest.approx(expected)
        assert (
            row.net_budget_impact_ci_low <= row.net_budget_impact <= row.net_budget_impact_ci_high
        )


def test_the_report_shows_the_table_and_the_forest_plot(table, tmp_path) -> None:
    import datetime as dt

    from cartsim.report.html import write_report
    from cartsim.report.results import run_manifest, write_files

    source = load(SCENARIO, SMALL)
    write_files(
        tmp_path, {"scenarios": table}, run_manifest(source, source.build(), dt.datetime.now())
    )
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert 'id="scenarios"' in html and "Scenario analyses: INMB with 95% CI" in html
    assert "price_minus_30" in html and "scenario analyses" in html  # CHEERS item 20


def test_the_forest_plot_marks_the_base_case_and_zero(table) -> None:
    from cartsim.report.plots.scenarios import plot_budget_impact, plot_scenario_forest

    fig = plot_scenario_forest(table)
    assert fig is not None and len(fig.data) == 3  # one trace per comparison
    for trace in fig.data:
        assert list(trace.marker.symbol) == ["diamond", "circle", "circle"]
    lines = [s.x0 for s in fig.layout.shapes]
    assert 0.0 in lines
    base = table[table["scenario"] == BASE_CASE]["inmb"]
    assert all(any(abs(x - b) < 1e-6 for x in lines) for b in base)
    assert plot_scenario_forest(table.drop(columns="inmb_ci_low")) is None
    assert plot_budget_impact(None) is None
