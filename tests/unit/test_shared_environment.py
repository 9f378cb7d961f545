"""Head-to-head arms run in one SimPy environment give each arm the log it gives alone."""

from __future__ import annotations

import numpy as np
import pytest
from builders import ROOT

from cartsim.engine import model
from cartsim.engine.cohort import make_cohort
from cartsim.engine.eventlog import EVENT_CODE
from cartsim.engine.model import run_arms, run_replication, waiting_exits
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


def test_a_large_cohort_runs_its_arms_one_after_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the size for one environment, one arm at a time (one arm's plans held), and the
    same replication."""
    scenario = loading.load(
        ROOT / "scenarios" / "cart_vs_asct.yaml", SCENARIOS["cart_vs_asct"]
    ).build()
    together = run_replication(scenario, 3)
    calls: list[list[str]] = []
    real = model.run_arms

    def spy(scenario, names, *args):  # type: ignore[no-untyped-def]
        calls.append(list(names))
        return real(scenario, names, *args)

    monkeypatch.setattr(model, "run_arms", spy)
    run_replication(scenario, 3)
    assert calls == [list(scenario.compared_arms)]  # small: every arm at once
    calls.clear()
    monkeypatch.setattr(model, "ONE_ENVIRONMENT_PATIENTS", together.cohort.size - 1)
    apart = run_replication(scenario, 3)
    assert calls == [[arm] for arm in scenario.compared_arms]
    for arm in scenario.compared_arms:
        for column, values in columns(together.arms[arm].log).items():
            np.testing.assert_array_equal(apart.arms[arm].log.arrays()[column], values)
