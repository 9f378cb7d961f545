"""Threshold values: Fieller's interval for a linear parameter, root-finding otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cartsim.decide.stats import mean_ci
from cartsim.decide.threshold import is_linear, linear_threshold, root_threshold


def paired(seed: int, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """INMB at x0 = 100 per replication, and its slope per unit of x (a price: negative)."""
    rng = np.random.default_rng(seed)
    k = -0.8 + 0.02 * rng.standard_normal(n)  # share of patients charged, per replication
    a = 40.0 + 10.0 * rng.standard_normal(n)
    return a, k


def test_linear_threshold_is_where_mean_inmb_is_zero() -> None:
    a, k = paired(1)
    t = linear_threshold(a, k, x0=100.0)
    assert t.value == pytest.approx(100.0 - a.mean() / k.mean())
    assert np.mean(a + k * (t.value - 100.0)) == pytest.approx(0.0, abs=1e-9)


def test_fieller_ends_are_where_the_inmb_interval_touches_zero() -> None:
    a, k = paired(2)
    t = linear_threshold(a, k, x0=100.0)
    assert t.low < t.value < t.high
    for end, bound in ((t.low, 1), (t.high, 2)):
        ci = mean_ci(a + k * (end - 100.0))
        # below the threshold INMB is positive: the lower bound reaches 0 at the low end
        assert ci[bound] == pytest.approx(0.0, abs=1e-7)
    inside = mean_ci(a + k * (t.value - 100.0))
    assert inside[1] < 0.0 < inside[2]


@pytest.mark.statistical
def test_fieller_interval_covers_the_true_threshold_about_95_percent_of_the_time(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    trials, n, true = 2000, 10, 150.0
    covered = 0
    for _ in range(trials):
        k = -1.0 + 0.1 * rng.standard_normal(n)
        a = -(true - 100.0) * -1.0 + 20.0 * rng.standard_normal(n)  # mean INMB 0 at x = true
        t = linear_threshold(a, k, x0=100.0)
        covered += t.low <= true <= t.high
    share = covered / trials
    margin = 4 * math.sqrt(0.95 * 0.05 / trials)  # binomial sampling error of the share
    assert abs(share - 0.95) < margin


def test_a_slope_not_clearly_non_zero_gives_an_unbounded_interval() -> None:
    rng = np.random.default_rng(4)
    a = 5.0 + rng.standard_normal(5)
    k = 0.01 * rng.standard_normal(5)
    t = linear_threshold(a, k, x0=0.0)
    assert t.low == -math.inf and t.high == math.inf


def test_is_linear_tells_a_price_from_a_hazard() -> None:
    x = np.array([0.0, 1.0, 3.0])
    reps = np.array([[1.0, -1.0, -5.0], [2.0, 0.5, -2.5]])
    assert is_linear(x, reps)
    assert not is_linear(x, reps + np.array([0.0, 0.0, 0.1]))


def test_root_finding_agrees_with_fieller_on_a_linear_parameter() -> None:
    a, k = paired(5)
    linear = linear_threshold(a, k, x0=100.0)
    rooted = root_threshold(lambda x: a + k * (x - 100.0), 0.0, 400.0)
    assert rooted.value == pytest.approx(linear.value, rel=1e-8)
    assert rooted.low == pytest.approx(linear.low, rel=1e-6)
    assert rooted.high == pytest.approx(linear.high, rel=1e-6)


def test_root_finding_on_a_curved_parameter() -> None:
    noise = np.random.default_rng(6).standard_normal(30) * 0.01
    t = root_threshold(lambda x: noise + 1.0 - x * x, 0.0, 3.0)
    assert t.value == pytest.approx(math.sqrt(1.0 + noise.mean()), rel=1e-8)
    assert t.low < t.value < t.high
    assert math.isnan(root_threshold(lambda x: noise + 5.0, 0.0, 3.0).value)  # no crossing
