"""Daily time-weighted means of step functions, computed by hand."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cartsim.evaluate.derive import among, step_daily_mean


def test_step_daily_mean_by_hand() -> None:
    # one unit busy from 0.5 to 2.5, a second from 1.0 to 1.25
    times = np.array([2.5, 0.5, 1.0, 1.25])
    deltas = np.array([-1.0, 1.0, 1.0, -1.0])
    np.testing.assert_allclose(step_daily_mean(times, deltas, 4), [0.5, 1.25, 0.5, 0.0])


def test_a_change_on_a_day_boundary_and_an_open_end() -> None:
    got = step_daily_mean(np.array([1.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0]), 4)
    np.testing.assert_allclose(got, [0.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(step_daily_mean(np.empty(0), np.empty(0), 3), np.zeros(3))


def test_a_day_with_a_single_change_before_its_end() -> None:
    got = step_daily_mean(np.array([0.5, 1.5]), np.array([1.0, -1.0]), 3)
    np.testing.assert_allclose(got, [0.5, 0.5, 0.0])


def test_a_log_is_sorted_once_per_horizon_and_again_after_new_records() -> None:
    """Patients' columns and stage starts read the same sorted log; a later record or another
    horizon sorts it again; nobody can change the shared columns."""
    import pytest

    from cartsim.engine.eventlog import EventLog
    from cartsim.engine.model import ArmRun
    from cartsim.evaluate.derive import patient_log

    log = EventLog(["a"], ["chair"])
    log.record(1, 0, 0, 2.0, 0)
    log.record(0, 0, 0, 1.0, 0)
    run = ArmRun(arm="x", log=log, capacity={}, grades={})
    first = patient_log(run, 10.0)
    assert patient_log(run, 10.0) is first
    np.testing.assert_array_equal(first.patient, [0, 1])
    with pytest.raises(ValueError):
        first.time[0] = 5.0
    assert patient_log(run, 1.5) is not first and patient_log(run, 1.5).patient.tolist() == [0]
    log.record(2, 0, 0, 3.0, 0)
    again = patient_log(run, 10.0)
    assert again is not first and again.patient.tolist() == [0, 1, 2]


def test_a_large_log_is_not_kept_sorted(monkeypatch) -> None:
    from cartsim.engine.eventlog import EventLog
    from cartsim.engine.model import ArmRun
    from cartsim.evaluate import derive

    monkeypatch.setattr(derive, "SORTED_KEPT", 1)
    log = EventLog(["a"], ["chair"])
    log.record(1, 0, 0, 2.0, 0)
    log.record(0, 0, 0, 1.0, 0)
    run = ArmRun(arm="x", log=log, capacity={}, grades={})
    first = derive.patient_log(run, 10.0)
    assert derive.patient_log(run, 10.0) is not first and log not in derive._SORTED
    np.testing.assert_array_equal(first.patient, [0, 1])


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([np.int8, np.int16, np.int64]),
    st.lists(st.integers(-1, 40), max_size=60),
    st.lists(st.integers(-1, 40), max_size=6),
)
def test_among_is_isin(dtype: type, values: list[int], codes: list[int]) -> None:
    """The comparison per code that replaces ``np.isin`` on log columns gives its very answer:
    for every integer type of the log, no code, repeated codes and the NO_CODE of -1."""
    column = np.asarray(values, dtype=dtype)
    got = among(column, codes)
    assert got.dtype == np.bool_ and got.shape == column.shape
    np.testing.assert_array_equal(got, np.isin(column, codes))
    np.testing.assert_array_equal(among(column, set(codes)), np.isin(column, codes))
