"""Capacity sweeps decide with the uncertainty: intervals, not means; every target; every year."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import scenario_dict
from scipy import stats

from cartsim.decide.capacity import AT_CAP, FAILS, MEETS, UNCLEAR, bound_verdict, decide, judge
from cartsim.decide.stats import summarise
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import PlanningTarget
from cartsim.runs import studies

AT_MOST = PlanningTarget(metric="p90_vein_to_vein_days", arm="cart", at_most=35)
AT_LEAST = PlanningTarget(metric="treated", arm="cart", at_least=10)


@pytest.mark.parametrize(
    ("target", "low", "high", "verdict"),
    [
        (AT_MOST, 30, 35, MEETS),  # the upper bound on the target meets
        (AT_MOST, 30, 35.01, UNCLEAR),  # the mean (32.5) alone would meet
        (AT_MOST, 35.01, 40, FAILS),
        (AT_MOST, 35, 40, UNCLEAR),
        (AT_LEAST, 10, 12, MEETS),
        (AT_LEAST, 9.99, 12, UNCLEAR),
        (AT_LEAST, 8, 9.99, FAILS),
        (AT_MOST, math.nan, math.nan, UNCLEAR),  # one replication: no interval
    ],
)
def test_a_target_is_met_only_when_its_interval_bound_is(
    target: PlanningTarget, low: float, high: float, verdict: str
) -> None:
    assert bound_verdict(low, high, target) == verdict


def sweep_rows(setting_id: int, year: float, mean: float, low: float, high: float) -> dict:
    return {
        "setting_id": setting_id, "setting": f"s={setting_id}", "referral_year": year,
        "arm": "cart", "metric": "p90_vein_to_vein_days", "mean": mean, "ci_low": low,
        "ci_high": high, "n_replications": 10, "capacity": 1, "capacity_cost_per_year": 0.0,
    }  # fmt: skip


def test_per_year_the_worst_year_counts() -> None:
    table = pd.DataFrame(
        [
            sweep_rows(0, math.nan, 30, 29, 31),  # pooled over all years: meets
            sweep_rows(0, 1, 28, 27, 29),
            sweep_rows(0, 5, 37, 36, 38),  # year 5 fails
        ]
    )
    pooled = judge(table, [AT_MOST]).iloc[0]
    assert pooled["verdict"] == MEETS
    per_year = judge(table, [AT_MOST.model_copy(update={"per_year": True})]).iloc[0]
    assert per_year["verdict"] == FAILS and per_year["worst_referral_year"] == 5
    assert per_year["ci_high"] == 38


def test_every_target_must_hold() -> None:
    table = pd.DataFrame([sweep_rows(0, math.nan, 30, 29, 31)])
    strict = PlanningTarget(metric="p90_vein_to_vein_days", arm="cart", at_most=30.5)
    judged = judge(table, [AT_MOST, strict])
    assert judged["verdict"].tolist() == [MEETS, UNCLEAR]
    assert decide(table, judged, {0: 10}, cap=20)["verdict"].iloc[0] == UNCLEAR
    assert decide(table, judged, {0: 20}, cap=20)["verdict"].iloc[0] == AT_CAP


def test_ties_go_to_the_smallest_capacity_then_the_lowest_cost() -> None:
    rows = [sweep_rows(i, math.nan, 30, 29, 31) for i in range(4)]
    for row, capacity, cost in zip(rows, [3, 2, 2, 1], [0, 500, 100, 0], strict=True):
        row.update(capacity=capacity, capacity_cost_per_year=cost)
    rows[3].update(ci_high=36)  # the smallest capacity is unclear: not chosen
    table = pd.DataFrame(rows)
    verdicts = decide(table, judge(table, [AT_MOST]), dict.fromkeys(range(4), 5), cap=5)
    assert verdicts.loc[verdicts["chosen"], "setting_id"].tolist() == [2]
    assert verdicts.loc[3, "verdict"] == AT_CAP


@pytest.mark.statistical
def test_verdicts_err_no_more_often_than_the_confidence_allows(seed: int) -> None:
    """At a true value exactly on the target, a 95% interval says 'meets' (and, separately,
    'fails') in at most 2.5% of sweeps; doubling the replications after 'meets' turns it into
    'fails' no more often. Judging the mean would say 'meets' half the time."""
    rng = np.random.default_rng(seed)
    trials, n, alpha = 400, 5, 0.05
    limit = stats.binom.ppf(1 - 1e-6, trials, alpha / 2)  # fails for any seed with chance 1e-6
    meets = fails = flips = 0
    for trial in range(trials):
        values = rng.normal(35.0, 4.0, size=2 * n)
        first = judge_values(values[:n], trial)
        meets += first == MEETS
        fails += first == FAILS
        flips += first == MEETS and judge_values(values, trial) == FAILS
    assert meets <= limit and fails <= limit and flips <= limit
    assert meets + fails > 0  # a clear verdict is seen (none in 400: chance 0.95**400)


def judge_values(values: np.ndarray, setting_id: int) -> str:
    metrics = pd.DataFrame(
        {
            "replication": range(len(values)),
            "arm": "cart",
            "metric": AT_MOST.metric,
            "value": values,
        }
    )
    table = summarise(metrics).assign(setting_id=setting_id, referral_year=math.nan)
    return str(judge(table, [AT_MOST])["verdict"].iloc[0])


def test_a_sweep_chooses_the_smallest_capacity_whose_bounds_meet_every_target(
    tmp_path: Path, write_yaml
) -> None:
    data = scenario_dict(
        run={"arrival_window_days": 730, "horizon_days": 900, "replications": 2},
        target={"metric": "p90_vein_to_vein_days", "arm": "cart", "at_most": 40},
        targets=[{"metric": "p90_vein_to_vein_days", "arm": "cart", "at_most": 45,
                  "per_year": True}],
    )  # fmt: skip
    data["resources"]["manufacturing"]["cost_per_unit_per_year"] = 100_000
    path = write_yaml(data)
    source = loading.load(path)
    model = source.build()
    grid = studies.sweep_settings(["resources.manufacturing.capacity=10,1,3,2"], source, model)
    scenarios = studies.sweep_scenarios(path, [], grid)
    run = studies.Execution(folder=tmp_path / "sweep")
    frames = studies.sweep(source, scenarios, grid, run, studies.Decision(0.95, 6))
    sweep, judged, decision = frames["sweep"], frames["sweep_targets"], frames["sweep_decision"]
    column = "resources.manufacturing.capacity"
    assert decision[column].tolist() == [1, 2, 3, 10]  # typed, in numeric order
    assert pd.api.types.is_integer_dtype(sweep[column])
    assert set(decision["verdict"]) <= {MEETS, FAILS, AT_CAP}  # unclear ones ran to the cap
    assert (decision.loc[decision["verdict"] == AT_CAP, "replications"] == 6).all()
    assert decision.loc[decision[column] == 1, "verdict"].item() == FAILS  # 28 a year for 50
    chosen = studies.best_setting(decision)
    assert chosen is not None
    mine = judged[judged["setting_id"] == chosen["setting_id"]]
    assert (mine["ci_high"] <= mine["target"].str.extract(r"<= (\d+)")[0].astype(float)).all()
    years = sweep[
        (sweep["setting_id"] == chosen["setting_id"])
        & sweep["referral_year"].notna()
        & (sweep["metric"] == "p90_vein_to_vein_days")
    ]
    assert len(years) == 2 and (years["ci_high"] <= 45).all()
    smaller = decision[decision["capacity"] < chosen["capacity"]]
    assert (smaller["verdict"] != MEETS).all()
    assert studies.unpriced(grid, model) == []
    assert studies.unpriced([{"resources.ward_bed.capacity": "1"}], model) == ["ward_bed"]


def test_a_target_per_year_must_be_a_measure_of_each_year(write_yaml) -> None:
    target = {"metric": "utilisation_manufacturing", "arm": "cart", "at_most": 0.9}
    path = write_yaml(scenario_dict(targets=[{**target, "per_year": True}]))
    source = loading.load(path)
    with pytest.raises(CartsimError, match="not measured per year"):
        studies.sweep_settings(["resources.manufacturing.capacity=1,2"], source, source.build())
    path = write_yaml(scenario_dict(targets=[target]))  # pooled over the years: fine
    source = loading.load(path)
    assert len(studies.sweep_settings(["resources.manufacturing.capacity=1,2"], source,
                                      source.build())) == 2  # fmt: skip
