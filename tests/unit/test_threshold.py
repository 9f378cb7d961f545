"""Threshold values: Fieller's interval for a linear parameter, root-finding otherwise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cartsim.decide.stats import mean_ci
from cartsim.decide.threshold import (
    UNCERTAIN,
    is_linear,
    linear_threshold,
    preferred,
    root_threshold,
)


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


def nets(seed: int, means: dict[str, float], sd: float, n: int = 10) -> pd.DataFrame:
    """NMB per replication (rows) and arm (columns), with a shared patient effect (paired)."""
    rng = np.random.default_rng(seed)
    shared = 50.0 * rng.standard_normal(n)
    return pd.DataFrame({a: m + shared + sd * rng.standard_normal(n) for a, m in means.items()})


def test_a_clearly_better_arm_is_preferred_and_its_interval_is_above_zero() -> None:
    found = preferred(nets(1, {"a": 0.0, "b": 100.0, "c": 40.0}, sd=5.0))
    assert found["best_arm"] == found["preferred_arm"] == "b"
    assert found["closest_arm"] == "c"
    assert (
        0.0 < found["inmb_closest_ci_low"] < found["inmb_closest"] < found["inmb_closest_ci_high"]
    )


def test_a_best_mean_within_the_noise_is_uncertain_and_names_the_close_arm() -> None:
    net = nets(2, {"a": 0.0, "b": 100.0, "c": 98.0}, sd=20.0)
    found = preferred(net)
    assert found["best_arm"] == str(net.mean().idxmax())
    assert found["preferred_arm"] == UNCERTAIN
    assert found["inmb_closest_ci_low"] < 0.0 < found["inmb_closest_ci_high"]
    assert {found["best_arm"], found["closest_arm"]} == {"b", "c"}


def test_the_interval_of_each_comparison_is_bonferroni_wide() -> None:
    # b beats a by 2.4 standard errors: clear at 95%, not at 97.5% (two comparisons)
    diff = np.array([1.0, -1.0] * 5)
    net = pd.DataFrame({"a": np.zeros(10), "b": 2.4 * diff.std(ddof=1) / math.sqrt(10) + diff})
    assert preferred(net)["preferred_arm"] == "b"
    net["c"] = -1000.0
    found = preferred(net)
    assert found["level"] == pytest.approx(0.975)
    assert found["preferred_arm"] == UNCERTAIN
    assert found["inmb_closest_ci_low"] == pytest.approx(mean_ci(net["b"] - net["a"], 0.975)[1])


@pytest.mark.statistical
def test_two_equal_arms_are_called_different_at_most_5_percent_of_the_time(seed: int) -> None:
    rng = np.random.default_rng(seed)
    trials = 2000
    decided = sum(
        preferred(nets(int(rng.integers(2**31)), {"a": 0.0, "b": 0.0}, sd=10.0, n=5))[
            "preferred_arm"
        ]
        != UNCERTAIN
        for _ in range(trials)
    )
    share = decided / trials
    # a one-sided 2.5% error on whichever arm leads: 5% in all, binomial sampling error around it
    assert share < 0.05 + 4 * math.sqrt(0.05 * 0.95 / trials)
    assert share > 0.05 - 4 * math.sqrt(0.05 * 0.95 / trials)


def test_three_replications_give_a_bounded_fieller_interval() -> None:
    a, k = paired(7, n=3)
    t = linear_threshold(a, k, x0=100.0)
    assert math.isfinite(t.low) and math.isfinite(t.high) and t.low < t.value < t.high
    assert math.isnan(linear_threshold(a[:1], k[:1], x0=100.0).low)  # one: no interval


def test_is_linear_on_money_of_a_realistic_size() -> None:
    # INMB of about a million per patient: rounding leaves residuals far above 1e-9 absolute
    x = np.array([300_000.0, 450_000.0, 600_000.0])
    rng = np.random.default_rng(8)
    a, k = 1e6 * rng.standard_normal(5), -0.8 + 0.01 * rng.standard_normal(5)
    reps = a[:, None] + k[:, None] * x[None, :] + 1e-6 * rng.standard_normal((5, 3))
    assert is_linear(x, reps)
    assert not is_linear(x, reps + np.array([0.0, 0.0, 50.0]))
