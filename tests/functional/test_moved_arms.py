"""One-way sensitivity and threshold studies run only the head-to-head arms a parameter moves; the
others' results are the base case's, and the tables are the ones every arm run again gives."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from builders import ROOT

from cartsim.decide.stats import nmb
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.runs import scenario_analyses, studies, threshold
from cartsim.runs.analyses import Variant, finish_dsa, mean_inmb, variant_scenario
from cartsim.runs.experiment import simulate
from cartsim.runs.moved import NOT_READ, PRICED, moved_arms, same_simulation
from cartsim.runs.scenario_analyses import BASE_CASE, analyses, run_analyses
from cartsim.runs.threshold import ThresholdStudy, threshold_table, two_way_grid

RETREAT = ROOT / "scenarios" / "relapse_retreatment.yaml"
CART_VS_ASCT = ROOT / "scenarios" / "cart_vs_asct.yaml"
SHORT = ["run.arrival_window_days=120", "run.horizon_days=240", "run.warmup_days=0",
         "run.replications=2"]  # fmt: skip
# one of each kind in the retreatment scenario: an arm's own, shared by two arms, the rescue-only
# arm's (moves the arm that refers to it), demand (moves every arm), and one nothing uses
PICKED = ["cost_ahsct_episode", "cart_response_sle", "bcma_product_cost",
          "cap_referral_rate_sle", "cap_apheresis_session_duration"]  # fmt: skip


def moved(source: loading.ScenarioSource, name: str) -> tuple[str, ...] | None:
    bounds = source.parameters[name].sensitivity_range()
    assert bounds is not None
    variant = Variant(name, "low", bounds[0])
    return moved_arms(variant_scenario(source, variant), source.build())


def test_a_parameter_moves_the_arms_that_use_it_and_those_that_rescue_into_it() -> None:
    source = loading.load(RETREAT, SHORT)
    assert moved(source, "cost_ahsct_episode") == ("ahsct",)
    assert moved(source, "cart_response_sle") == ("cart", "cart_commercial")
    assert moved(source, "bcma_product_cost") == ("cart",)  # rescue-only: who refers to it
    assert moved(source, "cap_referral_rate_sle") is None  # outside the arms: every arm
    assert moved(source, "cap_apheresis_session_duration") == ()  # not used: the same model


def test_in_a_service_mix_an_arms_parameter_moves_every_arm() -> None:
    source = loading.load(ROOT / "scenarios" / "service_mix.yaml")
    assert moved(source, "cost_ahsct_episode") is None  # the arms share resources


def recording(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, at: int = 3
) -> list[tuple[str, ...] | None]:
    """The ``only`` (positional argument ``at``: the arms to run, None for all) of every call
    of ``module.name`` from now on."""
    asked: list[tuple[str, ...] | None] = []
    original = getattr(module, name)

    def recorded(*args: Any) -> Any:
        asked.append(args[at] if len(args) > at else None)
        return original(*args)

    monkeypatch.setattr(module, name, recorded)
    return asked


@pytest.fixture
def picked(monkeypatch: pytest.MonkeyPatch) -> tuple[loading.ScenarioSource, Scenario]:
    """The retreatment scenario, its one-way analysis cut to the :data:`PICKED` parameters."""
    source = loading.load(RETREAT, SHORT)
    every = studies.dsa_variants(source)
    monkeypatch.setattr(
        studies, "dsa_variants", lambda _: [every[0], *(v for v in every if v.parameter in PICKED)]
    )
    return source, source.build()


def test_the_tornado_of_the_moved_arms_is_the_one_of_every_arm_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, picked: tuple[loading.ScenarioSource, Scenario]
) -> None:
    source, scenario = picked
    asked = recording(monkeypatch, studies, "dsa_unit")
    subset = studies.dsa(source, scenario, studies.Execution(folder=tmp_path / "moved"))
    assert ("ahsct",) in asked and ("cart",) in asked  # some variants ran a single arm
    assert len(asked) == 2 * (1 + 2 * 4)  # base and 4 used parameters' ends, 2 replications
    monkeypatch.setattr(studies, "moved_arms", lambda m, b: () if m == b else None)
    asked.clear()
    whole = studies.dsa(source, scenario, studies.Execution(folder=tmp_path / "every"))
    assert set(asked) == {None}
    assert set(subset["parameter"]) == set(PICKED)
    assert (subset.loc[subset["parameter"] == "cap_apheresis_session_duration", "width"] == 0).all()
    pd.testing.assert_frame_equal(subset, whole, check_exact=True)
    # the base case is the run's: its patients, the same random numbers
    assert scenario.economics is not None
    wtp, reference = scenario.economics.wtp_per_qaly, scenario.economics.reference_arm
    patients = pd.concat([simulate(scenario, r, events=False).patients for r in range(2)])
    means = patients.groupby(["replication", "arm"], observed=True)[["cost_total", "qaly_total"]]
    table = means.mean()
    net = pd.Series(nmb(table["cost_total"], table["qaly_total"], wtp), table.index).unstack()
    for row in subset.drop_duplicates("comparison").itertuples():
        arm = row.comparison.split(" vs ")[0]
        assert row.inmb_base == pytest.approx((net[arm] - net[reference]).mean(), rel=1e-9)


def test_mean_inmb_pairs_arms_within_each_replication_and_keeps_the_summaries_order() -> None:
    wtp = 10.0
    first = pd.DataFrame(  # rows in no particular order
        {"replication": [1, 0, 0, 1], "arm": ["b", "a", "b", "a"],
         "cost": [5.0, 1.0, 2.0, 4.0], "qaly": [1.0, 1.0, 2.0, 0.5]}
    )  # fmt: skip
    second = pd.DataFrame(
        {"replication": [0, 0], "arm": ["a", "b"], "cost": [0.0, 30.0], "qaly": [0.0, 1.0]}
    )
    table = mean_inmb([first, second], wtp, reference="a")
    # first: replication 0: nmb a 9, b 18 -> 9; replication 1: a 1, b 5 -> 4; mean 6.5
    # second: a 0, b -20 -> -20
    assert list(table.columns) == ["b"]
    assert table["b"].tolist() == [pytest.approx(6.5), pytest.approx(-20.0)]


@pytest.mark.parametrize("by", ["wtp", "cost_ahsct_episode"])
def test_a_threshold_and_a_grid_running_the_moved_arms_equal_every_arm_run_again(
    by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = loading.load(RETREAT, SHORT)
    study = ThresholdStudy("cost_cart_product_academic", "cart", replications=2)
    by_values = [20_000.0, 60_000.0] if by == "wtp" else [30_000.0, 90_000.0]
    asked = recording(monkeypatch, threshold, "arm_summary")

    def both() -> tuple[pd.DataFrame, pd.DataFrame]:
        table = threshold_table(source, study)
        grid = two_way_grid(source, study, [10_000.0, 400_000.0], by, by_values)
        return table, grid

    moved = both()
    runs = 2 * (3 + (2 if by == "wtp" else 4))  # 2 replications of 3 prices and the grid
    assert len(asked) == runs and asked.count(None) == 2 * 2  # x0 and the grid's first
    assert ("cart",) in asked
    monkeypatch.setattr(threshold, "moved_arms", lambda m, b: None)
    asked.clear()
    whole = both()
    assert set(asked) == {None}
    for mine, theirs in zip(moved, whole, strict=True):
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_a_threshold_compares_the_compared_arms_and_refuses_a_rescue_only_one() -> None:
    source = loading.load(RETREAT, SHORT)
    study = ThresholdStudy("cost_cart_product_academic", "cart", replications=2)
    table = threshold_table(source, study)
    assert set(table["comparator"]) == {"cart_commercial", "ahsct", "soc"}  # not bcma_cart
    rescue = ThresholdStudy("bcma_product_cost", "bcma_cart", replications=2)
    with pytest.raises(CartsimError, match="'bcma_cart', or one only for rescue"):
        threshold_table(source, rescue)


def test_mean_inmb_keeps_a_summary_without_numbers_in_its_place() -> None:
    rows = {"replication": [0, 0], "arm": ["a", "b"]}
    numbers = pd.DataFrame({**rows, "cost": [0.0, 30.0], "qaly": [0.0, 1.0]})
    empty = pd.DataFrame({**rows, "cost": [float("nan")] * 2, "qaly": [float("nan")] * 2})
    table = mean_inmb([numbers, empty, numbers], 10.0, reference="a")
    assert len(table) == 3
    assert table["b"].iloc[0] == table["b"].iloc[2] == pytest.approx(-20.0)
    assert table["b"].isna().iloc[1]  # no referral after the warm-up: no number, in its row


def test_one_way_sensitivity_compares_the_compared_arms_only() -> None:
    source = loading.load(RETREAT, SHORT)
    scenario = source.build()
    assert scenario.economics is not None
    economics = scenario.economics.model_copy(update={"reference_arm": None})
    rescue_first = scenario.model_copy(update={"economics": economics, "arms": {
        name: scenario.arms[name] for name in ("bcma_cart", "cart", "soc")}})  # fmt: skip
    base = pd.DataFrame({"replication": [0, 0], "arm": ["cart", "soc"],
                         "cost": [10.0, 0.0], "qaly": [1.0, 0.5]})  # fmt: skip
    ends = {Variant("cost_ahsct_episode", side, 1.0): base for side in ("low", "high")}
    table = finish_dsa({Variant(None, "base", None): base, **ends}, source, rescue_first)
    assert table["comparison"].tolist() == ["soc vs cart"]  # not against the rescue-only arm
    assert table["inmb_base"].tolist() == [pytest.approx(25_000.0 - 49_990.0)]  # WTP 50,000
    lonely = rescue_first.model_copy(update={"arms": {
        name: scenario.arms[name] for name in ("bcma_cart", "cart")}})  # fmt: skip
    with pytest.raises(CartsimError, match="two or more compared arms"):
        studies.check_dsa(source, lonely)


def test_one_way_sensitivity_in_two_processes_equals_serial(
    tmp_path: Path, picked: tuple[loading.ScenarioSource, Scenario]
) -> None:
    source, scenario = picked
    serial = studies.dsa(source, scenario, studies.Execution(folder=tmp_path / "serial"))
    both = studies.Execution(folder=tmp_path / "processes", workers=2, chunk_size=3)
    pd.testing.assert_frame_equal(studies.dsa(source, scenario, both), serial, check_exact=True)


def test_scenario_analyses_running_the_moved_arms_equal_every_arm_run_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = ["run.arrival_window_days=300", "run.horizon_days=500", "run.warmup_days=0",
             "run.replications=2"]  # fmt: skip
    source = loading.load(CART_VS_ASCT, small)
    keep = {BASE_CASE, "discount_0", "relapse_0_10", "price_minus_30"}
    found = [a for a in analyses(source, source.build(), small) if a.name in keep]
    asked = recording(monkeypatch, scenario_analyses, "simulate_each", at=5)
    ticks: list[int] = []
    moved = run_analyses(found, workers=1, on_done=lambda: ticks.append(1))
    assert ("cart_commercial",) in asked and ("cart", "cart_commercial") in asked
    # discounting is evaluated on the base case's simulation: 3 simulations a replication
    assert len(asked) == 2 * 3 and asked.count(None) == 2 and len(ticks) == 2 * len(found)
    monkeypatch.setattr(scenario_analyses, "moved_arms", lambda m, b: () if m == b else None)
    monkeypatch.setattr(scenario_analyses, "same_simulation", lambda m, b: False)
    asked.clear()
    whole = run_analyses(found, workers=1)
    assert len(asked) == 2 * 4 and set(asked) == {None}  # every analysis simulated, every arm
    pd.testing.assert_frame_equal(moved, whole, check_exact=True)
    # the base case is the run's: its patients, the same random numbers
    base = found[0].scenario
    patients = pd.concat([simulate(base, r, events=False).patients for r in range(2)])
    means = patients.groupby(["replication", "arm"], observed=True)["cost_total"].mean()
    rows = moved[moved["scenario"] == BASE_CASE]
    for row in rows.itertuples():
        arm = row.comparison.split(" vs ")[0]
        assert row.cost == pytest.approx(means.xs(arm, level="arm").mean(), rel=1e-9)


def test_scenario_analyses_refuse_a_scenario_with_one_compared_arm_or_no_economics() -> None:
    source = loading.load(RETREAT, SHORT)
    scenario = source.build()
    one = scenario.model_copy(update={"arms": {
        name: scenario.arms[name] for name in ("bcma_cart", "cart")}})  # fmt: skip
    with pytest.raises(CartsimError, match="two or more compared arms"):
        scenario_analyses.check_comparable(one, source.path)
    with pytest.raises(CartsimError, match="economics"):
        scenario_analyses.check_comparable(scenario.model_copy(update={"economics": None}), RETREAT)
    full = loading.load(CART_VS_ASCT).build()
    two = full.model_copy(update={"arms": {name: full.arms[name] for name in ("cart", "soc")}})
    scenario_analyses.check_comparable(two, CART_VS_ASCT)  # two compared arms are enough


def test_no_arm_result_reads_the_fields_moved_arms_leaves_out() -> None:
    package = ROOT / "src" / "cartsim"
    readers = [*(package / "engine").rglob("*.py"), *(package / "evaluate").rglob("*.py"),
               package / "runs" / "experiment.py"]  # fmt: skip
    left_out = {"parameters", "scenario_analyses", "threshold_prices"}
    assert left_out < set(NOT_READ)
    for module in readers:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        read = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not read & left_out, (module, read & left_out)


def test_same_simulation_allows_only_money_and_the_evaluation_to_differ() -> None:
    source = loading.load(CART_VS_ASCT)
    base = source.build()

    def built(*sets: str) -> Scenario:
        return loading.load(CART_VS_ASCT, list(sets)).build()

    assert same_simulation(built("economics.discount_rate_costs=0"), base)
    assert same_simulation(built("arms.cart.economics.follow_up_cost_per_year=1"), base)
    # a stage's costs sit beside what the simulation reads: that stage is simulated again
    assert not same_simulation(built("parameters.cost_cart_product_commercial.value=1"), base)
    assert not same_simulation(built("parameters.cart_relapse_hazard.value=0.2"), base)
    assert not same_simulation(built("run.horizon_days=4000"), base)


def test_the_simulation_reads_no_money() -> None:
    for module in (ROOT / "src" / "cartsim" / "engine").rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        read = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not read & set(PRICED), (module, read & set(PRICED))
