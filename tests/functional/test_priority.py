"""Priority queues: a resource's queue served by rank (disease or patient flag), first come,
first served within a rank; exact grant times and the order read off the event log."""

from __future__ import annotations

import pandas as pd
import pytest
import simpy
from builders import make_scenario

from cartsim.engine.resources import RankedSlots
from cartsim.inputs.errors import ScenarioError
from cartsim.runs.experiment import simulate


def test_a_higher_rank_is_served_first_and_ties_in_arrival_order() -> None:
    env = simpy.Environment()
    slots = RankedSlots(env, 1)
    started: dict[str, float] = {}

    def patient(name: str, arrive: float, rank: int, service: float):
        yield env.timeout(arrive)
        grant = slots.request(rank)
        if grant is not None:
            yield grant
        started[name] = env.now
        yield env.timeout(service)
        slots.release()

    for args in (("a", 0, 1, 5), ("b", 1, 1, 2), ("c", 2, 0, 3), ("d", 3, 1, 1), ("e", 4, 0, 1)):
        env.process(patient(*args))
    env.run()
    # a holds the unit to 5; c and e (rank 0) go before b and d (rank 1), each pair in order
    assert started == {"a": 0, "c": 5, "e": 8, "b": 9, "d": 11}


def test_a_patient_leaving_a_ranked_queue_is_not_served() -> None:
    env = simpy.Environment()
    slots = RankedSlots(env, 1)
    assert slots.request(1) is None
    first, second = slots.request(0), slots.request(0)
    assert first is not None and second is not None
    slots.cancel(first)
    slots.release()
    env.run()
    assert second.triggered and not first.triggered


def busy_run(priority: list[dict]) -> pd.DataFrame:
    scenario = make_scenario(
        demand={"SLE": {"rate_per_year": 18, "age": 40}, "SSc": {"rate_per_year": 9, "age": 50}},
        resources={"manufacturing": {"capacity": 1, "priority": priority},
                   "apheresis": {"capacity": "unlimited"}, "ward_bed": {"capacity": "unlimited"}},
    )  # fmt: skip
    tables = simulate(scenario, 0)
    events = tables.events[tables.events["stage"] == "manufacturing"]
    times = events.pivot_table(index="patient_id", columns="event", values="time",
                               aggfunc="first", observed=True)  # fmt: skip
    disease = tables.patients.set_index("patient_id")["disease"].astype(str)
    return times.assign(disease=disease.loc[times.index])[["queue", "start", "disease"]]


def test_the_event_log_never_starts_a_lower_rank_while_a_higher_one_waits() -> None:
    ssc_first = busy_run([{"diseases": ["SSc"]}]).dropna()
    low, high = ssc_first[ssc_first["disease"] == "SLE"], ssc_first[ssc_first["disease"] == "SSc"]
    assert (low["start"] > low["queue"] + 1).sum() > 3  # a real queue
    for t in low["start"]:
        waiting = (high["queue"] < t) & (high["start"] > t)
        assert not waiting.any(), t
    for group in (low, high):  # first come, first served within a rank
        ordered = group.sort_values("queue")
        assert ordered["start"].is_monotonic_increasing
    fifo = busy_run([]).dropna()  # without the priority, some SLE patient goes first
    fifo_low, fifo_high = fifo[fifo["disease"] == "SLE"], fifo[fifo["disease"] == "SSc"]
    jumped = [
        ((fifo_high["queue"] < t) & (fifo_high["start"] > t)).any() for t in fifo_low["start"]
    ]
    assert any(jumped) or len(fifo_high) < 3


def test_a_priority_naming_an_unknown_disease_is_refused() -> None:
    with pytest.raises(ScenarioError) as caught:
        make_scenario(
            resources={"manufacturing": {"capacity": 1, "priority": [{"diseases": ["X"]}]}}
        )
    assert caught.value.field == "resources.manufacturing.priority.0"
    assert "unknown disease or flag 'X'" in caught.value.message
