"""Retreatment after relapse: second journeys use the same resources and are costed.

A small scenario with no deaths, dropouts or product failures, so that every first-line patient
makes exactly one apheresis and one manufacturing run whatever the queues: any extra start is a
retreatment. Relapse is fast (3 a year) so that retreated patients meet first-line patients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from builders import ROOT, make_scenario, scenario_dict

from cartsim.engine.cohort import make_cohort
from cartsim.engine.eventlog import EVENT_CODE
from cartsim.engine.model import ArmRun, run_replication
from cartsim.engine.streams import Streams
from cartsim.inputs.loading import load
from cartsim.runs.experiment import arm_summaries, simulate

START, QUEUE, REFERRAL = (EVENT_CODE[e] for e in ("start", "queue", "referral"))
STAGES = scenario_dict()["arms"]["cart"]["stages"]
OUTCOME = {
    "response": 0.9,
    "response_days": 30,
    "relapse": {"model": "constant", "hazard_per_year": 3.0},
}


GOMPERTZ = {"a": 5e-5, "b": 0.09}  # per year; a test value, not a population's


def retreat_scenario(rules: list[dict[str, Any]], mortality: bool = False) -> Any:
    rescue_stages = [dict(s) for s in STAGES]
    rescue_stages[1] = {**rescue_stages[1], "costs": {"product": 50_000}}
    return make_scenario(
        scenario_dict(
            run={"arrival_window_days": 365, "horizon_days": 3650},
            demand={"SLE": {"rate_per_year": 20}},
            resources={"manufacturing": {"capacity": 1}},
            arms={
                "cart": {"outcomes": {"SLE": OUTCOME}, "on_relapse": rules},
                "rescue": {
                    "rescue_only": True,
                    "stages": rescue_stages,
                    "outcomes": {"SLE": {**OUTCOME, "response": 0.5}},
                },
            },
            economics={"horizon_years": 20},
            disease_course={
                "SLE": {
                    "utility_active": 0.6,
                    "utility_remission": 0.8,
                    "cost_active_per_year": 1e3,
                    "smr_active": 3.0,
                    "remission_prob_per_year": 0.1,
                    "relapse_hazard_per_year": 0.5,
                }
            },
            **({"mortality": {"female": GOMPERTZ, "male": GOMPERTZ}} if mortality else {}),
        )
    )


def starts(run: ArmRun, resource: int) -> int:
    log = run.log.arrays()
    return int(np.sum((log["event"] == START) & (log["resource"] == resource)))


def test_retreated_patients_make_extra_apheresis_and_manufacturing_runs(seed: int) -> None:
    with_rule = retreat_scenario([{"arm": "rescue", "share": 1.0}])
    without = retreat_scenario([])
    runs = run_replication(with_rule, seed % 1000).arms["cart"]
    plain = run_replication(without, seed % 1000).arms["cart"]
    assert plain.retreat == [] and len(runs.retreat) == 1
    second = runs.retreat[0].log.arrays()
    retreated = np.unique(second["patient_id"][second["event"] == REFERRAL]).size
    assert retreated > 0
    for code in (0, 1):  # apheresis, manufacturing
        assert starts(runs, code) == starts(plain, code)  # first-line journeys unchanged
        assert starts(runs.retreat[0], code) == retreated
    assert "rescue" not in run_replication(with_rule, 0).arms


def test_second_journeys_queue_behind_first_line_patients(seed: int) -> None:
    runs = run_replication(retreat_scenario([{"arm": "rescue", "share": 1.0}]), seed % 1000)
    first = runs.arms["cart"].log.arrays()
    second = runs.arms["cart"].retreat[0].log.arrays()

    def held(log: dict[str, np.ndarray], resource: int) -> tuple[np.ndarray, np.ndarray]:
        mine = log["resource"] == resource
        s = mine & (log["event"] == START)
        e = mine & (log["event"] == EVENT_CODE["end"])
        return log["time"][s], log["time"][e]  # one manufacturing run per patient, in order

    blocked = 0
    for queued_by, holders in ((second, first), (first, second)):
        begin, end = held(holders, 1)
        end = np.concatenate([end, np.full(begin.size - end.size, np.inf)])
        q = queued_by["time"][(queued_by["event"] == QUEUE) & (queued_by["resource"] == 1)]
        s = queued_by["time"][(queued_by["event"] == START) & (queued_by["resource"] == 1)]
        for t_queue, t_start in zip(q, s, strict=False):
            busy = (begin <= t_queue) & (end > t_queue)
            blocked += int(t_start > t_queue and busy.any())
    assert blocked > 0


def test_retreatment_is_in_the_patients_table_and_costed(seed: int) -> None:
    tables = simulate(retreat_scenario([{"arm": "rescue", "share": 1.0}]), seed % 1000)
    p = tables.patients
    assert set(p["arm"].unique()) == {"cart"}
    retreated = p["retreated"].to_numpy(dtype=bool)
    assert retreated.any()
    assert np.all(p["retreat_arm"][retreated] == "rescue")
    assert p["retreat_arm"][~retreated].isna().all()
    assert (p["retreatment_day"][retreated] > p["relapse_day"][retreated]).all()
    assert np.isnan(p["retreatment_day"][~retreated]).all()
    assert (p["cost_retreatment"][retreated] > 0).all()
    assert (p["cost_retreatment"][~retreated] == 0).all()
    second = p["retreat_response"].to_numpy(dtype=bool)
    assert second.any() and not second[~retreated].any()
    assert np.isfinite(p["retreat_response_day"][second]).all()


def test_share_zero_gives_the_same_results_as_no_rule() -> None:
    zero = simulate(retreat_scenario([{"arm": "rescue", "share": 0.0}], mortality=True), 3)
    none = simulate(retreat_scenario([], mortality=True), 3)
    assert none.patients["death_day"].notna().any()
    common = [c for c in none.patients.columns if c in zero.patients.columns]
    assert not zero.patients["retreated"].any()
    pd.testing.assert_frame_equal(zero.patients[common], none.patients[common])
    pd.testing.assert_frame_equal(zero.metrics, none.metrics)
    pd.testing.assert_frame_equal(zero.resources, none.resources)


def test_engine_and_clinical_course_agree_on_who_is_referred_again() -> None:
    """relapse_retreatment.yaml, with mortality: retreated exactly when the clinical course has a
    relapse alive before the horizon and the route uniform picks the rule."""
    scenario = load(ROOT / "scenarios" / "relapse_retreatment.yaml").build()
    cart = arm_summaries(scenario, 0)["cart"].columns
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=0, draw=0))
    route = cohort.draw("retreat.route")
    relapse = np.nan_to_num(cart["relapse_day"], nan=np.inf)
    expected = (relapse < scenario.run.horizon_days) & (route < 0.5)
    assert expected.sum() > 0
    np.testing.assert_array_equal(cart["retreated"], expected)


def test_the_rules_response_replaces_the_target_arms(seed: int) -> None:
    """Rescue arm response 0.5; the rule says 0 or 1: every second treatment fails or works."""
    for response in (0.0, 1.0):
        rule = {"arm": "rescue", "share": 1.0, "response": response}
        cart = arm_summaries(retreat_scenario([rule]), seed % 1000)["cart"].columns
        treated2 = np.isfinite(cart["retreatment_day"])
        assert treated2.any()
        np.testing.assert_array_equal(cart["retreat_response"], treated2 & (response == 1.0))
