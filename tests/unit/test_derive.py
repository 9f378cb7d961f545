"""Daily time-weighted means of step functions, computed by hand."""

from __future__ import annotations

import numpy as np

from cartsim.evaluate.derive import step_daily_mean


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
