"""Head-to-head arms run in one SimPy environment give each arm the log it gives alone."""

from __future__ import annotations

import numpy as np
import pytest
from builders import ROOT

from cartsim.engine.cohort import make_cohort
from cartsim.engine.eventlog import EVENT_CODE
from cartsim.engine.model import run_arms, waiting_exits
from cartsim.engine.streams import Streams
from cartsim.inputs import loading

QUEUE, START = EVENT_CODE["queue"], EVENT_CODE["start"]
SCENARIOS = {  # scarce resources, so queues form and arms sharing units would change waits
    "cart_vs_asct": ["resources.ward_bed.capacity=1", "resources.apheresis.capacity=1"],
    "therapies_2026": ["run.arrival_window_days=900"],
    "relapse_retreatment": [],
    "national_central": [],
}


def columns(log) -> dict[str, np.ndarray]:
    return {name: values.copy() for name, values in log.arrays().items()}


def waited(log) -> bool:
    """Whether some patient started a service later than they queued for it."""
    cols = log.arrays()
    queued, started = cols["event"] == QUEUE, cols["event"] == START
    keys = np.stack([cols["patient_id"], cols["stage"]], axis=1)
    first_queue = {tuple(k): t for k, t in zip(keys[queued], cols["time"][queued], strict=True)}
    return any(
        t > first_queue.get(tuple(k), t)
        for k, t in zip(keys[started], cols["time"][started], strict=True)
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_arm_runs_as_it_does_alone(name: str) -> None:
    scenario = loading.load(ROOT / "scenarios" / f"{name}.yaml", SCENARIOS[name]).build()
    assert scenario.comparison == "head_to_head"
    cohort = make_cohort(scenario, Streams(scenario.run.seed, replication=1))
    exits = waiting_exits(scenario, cohort)
    arms = list(scenario.compared_arms)
    together = run_arms(scenario, arms, cohort, exits)
    assert any(waited(together[arm].log) for arm in arms)  # the test can see shared units
    for arm in arms:
        alone = run_arms(scenario, [arm], cohort, exits)[arm]
        mine = together[arm]
        for got, want in zip(
            [mine.log, *(r.log for r in mine.retreat)],
            [alone.log, *(r.log for r in alone.retreat)],
            strict=True,
        ):
            for column, values in columns(want).items():
                np.testing.assert_array_equal(got.arrays()[column], values, err_msg=column)
        assert mine.capacity.keys() == alone.capacity.keys()
