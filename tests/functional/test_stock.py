"""A stock of doses (``restock_days`` on an activity): the dose returns when its replacement
arrives, the patient moves on at once; checked against an independent first-come-first-served
recursion on the same referral days, and against the log."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import pytest
from builders import make_scenario, scenario_dict

from cartsim.engine.cohort import make_cohort
from cartsim.engine.streams import Streams
from cartsim.runs.experiment import simulate

LEAD, TRAVEL, DOSES = 10.0, 1.0, 2


def stock_scenario(doses: int = DOSES, **stage: Any) -> Any:
    data = scenario_dict(resources={"stock": {"capacity": doses}})
    data["arms"]["cart"] = {
        "stages": [
            {"name": "dose", "kind": "activity", "resource": "stock", "duration": 0,
             "restock_days": LEAD, **stage},
            {"name": "travel", "kind": "delay", "duration": TRAVEL},
            {"name": "infusion", "kind": "treatment"},
        ]
    }  # fmt: skip
    return make_scenario(data)


def fcfs_starts(arrivals: np.ndarray, servers: int, hold: float) -> np.ndarray:
    """Start times of first-come-first-served service with ``servers`` units each held
    ``hold`` days (the Kiefer-Wolfowitz recursion)."""
    free = [0.0] * servers
    starts = np.empty(arrivals.size)
    for k in np.argsort(arrivals, kind="stable"):
        earliest = heapq.heappop(free)
        starts[k] = max(arrivals[k], earliest)
        heapq.heappush(free, starts[k] + hold)
    return starts


@pytest.mark.parametrize("replication", [0, 1])
def test_doses_come_back_after_the_lead_time_and_patients_move_on(replication: int) -> None:
    scenario = stock_scenario()
    t = simulate(scenario, replication)
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=replication))
    starts = fcfs_starts(cohort.arrival_day, DOSES, LEAD)
    patients = t.patients.set_index("patient_id").sort_index()
    waits = starts - cohort.arrival_day
    assert (waits > 0).sum() >= 3  # the stock runs out now and then: the test has teeth
    np.testing.assert_allclose(patients["wait_dose_days"], waits, atol=1e-9)
    # the patient leaves the stock at once: treatment one travel day after the dose is taken
    np.testing.assert_allclose(patients["treatment_day"], starts + TRAVEL, atol=1e-9)
    events = t.events[t.events["resource"].astype(str) == "stock"]
    took = events[events["event"] == "start"].set_index("patient_id")["time"].sort_index()
    back = events[events["event"] == "end"].set_index("patient_id")["time"].sort_index()
    horizon = scenario.run.horizon_days
    returned = took[took + LEAD <= horizon]
    np.testing.assert_allclose(back.loc[returned.index], returned + LEAD, atol=1e-9)


def test_doses_on_order_are_the_stock_in_use() -> None:
    """Each dose is on order LEAD days: the area under the in-use series is LEAD per dose."""
    scenario = stock_scenario()
    t = simulate(scenario, 0)
    series = t.resources[t.resources["resource"].astype(str) == "stock"]
    assert series["in_use"].max() <= DOSES + 1e-9
    taken = int(t.patients["treatment_day"].notna().sum())
    assert series["in_use"].sum() == pytest.approx(taken * LEAD, abs=1e-6)


def test_a_large_stock_never_keeps_anyone_waiting() -> None:
    t = simulate(stock_scenario(doses=1000), 0)
    assert (t.patients["wait_dose_days"] == 0).all()
    np.testing.assert_allclose(
        t.patients["treatment_day"], t.patients["arrival_day"] + TRAVEL, atol=1e-9
    )


def test_a_drawn_lead_time_is_per_patient() -> None:
    scenario = stock_scenario(restock_days={"dist": "uniform", "low": 5, "high": 15})
    t = simulate(scenario, 0)
    events = t.events[t.events["resource"].astype(str) == "stock"]
    took = events[events["event"] == "start"].set_index("patient_id")["time"]
    back = events[events["event"] == "end"].set_index("patient_id")["time"]
    lead = (back - took.loc[back.index]).to_numpy()
    assert lead.min() >= 5 - 1e-9 and lead.max() <= 15 + 1e-9
    assert np.unique(np.round(lead, 6)).size > 10


def test_a_dose_coming_back_while_its_patient_queues_elsewhere_leaves_the_wait_alone() -> None:
    """The dose returns (its ``end`` is logged) while the patient waits for a bed: the bed's
    wait is still the time from that queue to that start."""
    data = scenario_dict(resources={"stock": {"capacity": 1000}, "bed": {"capacity": 1}})
    data["arms"]["cart"] = {
        "stages": [
            {"name": "dose", "kind": "activity", "resource": "stock", "duration": 0,
             "restock_days": 2},
            {"name": "stay", "kind": "activity", "resource": "bed", "duration": 5},
            {"name": "infusion", "kind": "treatment"},
        ]
    }  # fmt: skip
    scenario = make_scenario(data)
    t = simulate(scenario, 0)
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=0))
    starts = fcfs_starts(cohort.arrival_day, 1, 5.0)
    waits = starts - cohort.arrival_day
    assert (waits > 2).sum() >= 3  # the dose is back before these patients get a bed
    patients = t.patients.set_index("patient_id").sort_index()
    done = starts <= scenario.run.horizon_days
    np.testing.assert_allclose(patients["wait_stay_days"][done], waits[done], atol=1e-9)
