"""The first time of an event per patient, read off the log (vein-to-vein depends on it)."""

from __future__ import annotations

import numpy as np

from cartsim.engine.eventlog import EVENT_CODE, NO_CODE, EventLog
from cartsim.engine.model import ArmRun
from cartsim.evaluate.derive import PatientLog

START, TREATMENT = EVENT_CODE["start"], EVENT_CODE["treatment"]


def _log(records: list[tuple[int, int, int, float]]) -> PatientLog:
    log = EventLog(["apheresis", "manufacturing"], ["chair"])
    for patient, stage, event, time in records:
        log.record(patient, stage, event, time, NO_CODE)
    return PatientLog(ArmRun(arm="cart", log=log, capacity={}, grades={}), horizon=1000.0)


def test_first_time_is_the_earliest_of_repeated_events_whatever_the_log_order() -> None:
    # patient 1 has apheresis twice (re-apheresis after a failed product), logged out of order
    # across patients; patient 2 never starts apheresis
    records = [
        (1, 0, START, 40.0),
        (0, 0, START, 5.0),
        (1, 0, START, 10.0),
        (2, 1, START, 7.0),
        (1, 1, START, 12.0),
        (0, 0, START, 30.0),
    ]
    log = _log(records)
    first = log.first_time((log.stage == 0) & (log.event == START), 3)
    np.testing.assert_array_equal(first, [5.0, 10.0, np.nan])


def test_first_time_of_many_patients_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(11)
    n = 200
    records = []
    for patient in range(n):
        times = np.sort(rng.uniform(0, 100, rng.integers(0, 6)))
        records += [(patient, int(rng.integers(0, 2)), START, float(t)) for t in times]
    rng.shuffle(records)
    log = _log(records)
    mask = (log.stage == 1) & (log.event == START)
    expected = np.full(n, np.nan)
    for patient, stage, _, time in records:
        if stage == 1 and not time >= expected[patient]:
            expected[patient] = time
    np.testing.assert_array_equal(log.first_time(mask, n), expected)
