"""Replication statistics against scipy: t-intervals, paired differences, levels, summaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartsim.decide.stats import (
    check_level,
    mean_ci,
    nmb,
    paired_difference_ci,
    summarise,
    with_ci,
)

X = np.array([3.0, 7.5, 4.25, 9.0, 1.5, 6.0])


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95, 0.99, 0.9999])
def test_mean_ci_equals_scipy_t_interval(level: float) -> None:
    mean, low, high = mean_ci(X, level)
    ref = stats.t.interval(level, X.size - 1, loc=X.mean(), scale=stats.sem(X))
    assert mean == pytest.approx(X.mean(), rel=1e-14)
    assert (low, high) == pytest.approx(ref, rel=1e-12)


def test_mean_ci_of_two_values() -> None:
    mean, low, high = mean_ci([1.0, 3.0])
    half = 12.706204736174698 * math.sqrt(2.0) / math.sqrt(2.0)  # t_{1, 0.975} * sd / sqrt(n)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half), rel=1e-12)


def test_mean_ci_propagates_nan_and_flattens() -> None:
    assert all(math.isnan(v) for v in mean_ci([1.0, math.nan, 3.0]))
    assert mean_ci(X.reshape(2, 3)) == pytest.approx(mean_ci(X), rel=1e-15)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_levels_outside_the_open_unit_interval_are_refused(level: float) -> None:
    with pytest.raises(ValueError, match="confidence level"):
        check_level(level)
    with pytest.raises(ValueError):
        mean_ci(X, level)


def test_levels_inside_are_returned_as_floats() -> None:
    assert check_level(0.95) == 0.95 and isinstance(check_level(np.float32(0.5)), float)
    assert check_level(1e-9) == 1e-9 and check_level(1 - 1e-9) == 1 - 1e-9


def test_paired_difference_is_the_interval_of_the_differences() -> None:
    b = X[::-1] * 0.5 + 1.0
    assert paired_difference_ci(X, b, 0.9) == pytest.approx(mean_ci(X - b, 0.9), rel=1e-15)
    mean, _, _ = paired_difference_ci(X, b)
    assert mean == pytest.approx(X.mean() - b.mean(), rel=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        paired_difference_ci(X, X[:-1])


def test_nmb_is_wtp_times_qaly_minus_cost() -> None:
    assert nmb(1000.0, 2.0, 30000.0) == 59000.0
    assert isinstance(nmb(1000.0, 2.0, 30000.0), float)
    got = nmb(np.array([1.0, 2.0]), np.array([0.5, 0.25]), np.array([[10.0], [20.0]]))
    np.testing.assert_array_equal(got, [[4.0, 0.5], [9.0, 3.0]])


def test_with_ci_names_the_three_values() -> None:
    assert with_ci("cost", (1.0, 0.5, 1.5)) == {
        "cost": 1.0,
        "cost_ci_low": 0.5,
        "cost_ci_high": 1.5,
    }


def test_summarise_groups_by_arm_and_metric_and_skips_nan() -> None:
    metrics = pd.DataFrame(
        {
            "replication": [0, 1, 2, 0, 1, 2, 0, 1, 2],
            "arm": ["a"] * 3 + ["b"] * 6,
            "metric": ["wait"] * 3 + ["wait"] * 3 + ["cost"] * 3,
            "value": [1.0, 2.0, 4.0, 5.0, math.nan, 7.0, math.nan, math.nan, math.nan],
        }
    )
    table = summarise(metrics, level=0.9).set_index(["arm", "metric"])
    assert list(table.columns) == ["mean", "ci_low", "ci_high", "n_replications"]
    row = table.loc[("a", "wait")]
    assert tuple(row[["mean", "ci_low", "ci_high"]]) == pytest.approx(mean_ci([1, 2, 4], 0.9))
    assert row["n_replications"] == 3
    row = table.loc[("b", "wait")]
    assert tuple(row[["mean", "ci_low", "ci_high"]]) == pytest.approx(mean_ci([5, 7], 0.9))
    assert row["n_replications"] == 2
    row = table.loc[("b", "cost")]
    assert row[["mean", "ci_low", "ci_high"]].isna().all() and row["n_replications"] == 0
