"""``Slots`` against ``simpy.Resource`` on random sequences, reneging included, and the light
process start against ``env.process``."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import pandas as pd
import simpy
from builders import make_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from cartsim.engine import model
from cartsim.engine.resources import Slots
from cartsim.runs.experiment import simulate

# Arrivals and services on a whole-number grid, patience on half-numbers: a customer never
# gives up at the very moment a unit is released, the one tie the two may order differently.
customers = st.lists(
    st.tuples(
        st.integers(0, 4),  # gap since the previous arrival
        st.integers(1, 8),  # service
        st.one_of(st.none(), st.integers(0, 10)),  # patience - 0.5, or none
    ),
    min_size=1,
    max_size=40,
)

Outcome = list[float | None]  # start of service per customer, None when they left unserved
Customer = Callable[..., Generator[simpy.Event, object, None]]


def _simpy_customer(
    env: simpy.Environment,
    res: simpy.Resource,
    service: float,
    patience: float,
    out: Outcome,
    i: int,
) -> Generator[simpy.Event, object, None]:
    req = res.request()
    if math.isinf(patience):
        yield req
    else:
        yield req | env.timeout(patience)
        if not req.triggered:
            req.cancel()  # reneging: leave the queue
            return
    out[i] = env.now
    yield env.timeout(service)
    res.release(req)


def _slots_customer(
    env: simpy.Environment, slots: Slots, service: float, patience: float, out: Outcome, i: int
) -> Generator[simpy.Event, object, None]:
    grant = slots.request()
    if grant is not None:
        if math.isinf(patience):
            yield grant
        else:
            yield grant | env.timeout(patience)
            if not grant.triggered:
                slots.cancel(grant)
                return
    out[i] = env.now
    yield env.timeout(service)
    slots.release()


def _run(
    make: Callable[[simpy.Environment], object],
    customer: Customer,
    seq: list[tuple[int, int, int | None]],
) -> Outcome:
    env = simpy.Environment()
    resource = make(env)
    out: Outcome = [None] * len(seq)

    def source() -> Generator[simpy.Event, object, None]:
        for i, (gap, service, patience) in enumerate(seq):
            yield env.timeout(gap)
            wait = math.inf if patience is None else patience + 0.5
            env.process(customer(env, resource, float(service), wait, out, i))

    env.process(source())
    env.run()
    return out


@settings(max_examples=300, deadline=None)
@given(seq=customers, capacity=st.integers(1, 3))
def test_slots_match_simpy_resource_with_reneging(
    seq: list[tuple[int, int, int | None]], capacity: int
) -> None:
    reference = _run(lambda env: simpy.Resource(env, capacity), _simpy_customer, seq)
    fast = _run(lambda env: Slots(env, capacity), _slots_customer, seq)
    assert fast == reference


def test_a_patient_who_leaves_the_queue_is_never_served_and_others_move_up() -> None:
    env = simpy.Environment()
    slots = Slots(env, 1)
    assert slots.request() is None  # the first patient is served at once
    first, second, third = slots.request(), slots.request(), slots.request()
    assert first is not None and second is not None and third is not None
    assert slots.in_use == 1 and list(slots.waiting) == [first, second, third]
    slots.cancel(second)  # dies while waiting
    assert list(slots.waiting) == [first, third]
    slots.release()
    assert first.triggered and not third.triggered and slots.in_use == 1
    slots.release()
    assert third.triggered and not second.triggered
    slots.release()
    assert slots.in_use == 0 and not slots.waiting
    assert slots.request() is None  # the freed unit is available again


def test_cancel_of_the_only_waiter_leaves_the_unit_busy() -> None:
    env = simpy.Environment()
    slots = Slots(env, 2)
    assert slots.request() is None and slots.request() is None
    waiter = slots.request()
    assert waiter is not None
    slots.cancel(waiter)
    slots.release()
    assert slots.in_use == 1 and not waiter.triggered


def test_light_start_gives_the_same_events_as_env_process(monkeypatch, seed: int) -> None:
    """The engine's ``start`` against SimPy processes on a scenario with queues and exits."""
    scenario = make_scenario(
        waiting={"death_hazard_per_day": 0.002, "dropout_hazard_per_day": 0.003},
        resources={"manufacturing": {"capacity": 1}},
        run={"seed": seed},
    )
    light = simulate(scenario, 0).events

    started: list[int] = []

    def process_start(journey: Generator[simpy.Event, None, None]) -> None:
        started.append(1)
        local = journey.gi_frame.f_locals  # type: ignore[union-attr]
        env = local["env"] if "env" in local else local["self"].env
        env.process(journey)

    monkeypatch.setattr(model, "start", process_start)
    heavy = simulate(scenario, 0).events
    assert len(started) > (light["event"] == "referral").sum()  # every journey was a process
    assert (light["event"] == "leave_queue").any() and (light["event"] == "start").any()

    def ordered(events: pd.DataFrame) -> pd.DataFrame:
        return events.sort_values(["patient_id", "time", "event"], kind="stable").reset_index(
            drop=True
        )

    pd.testing.assert_frame_equal(ordered(light), ordered(heavy))
    assert np.isfinite(light["time"]).all()
