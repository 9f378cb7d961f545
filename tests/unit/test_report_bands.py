"""Uncertainty drawn in the figures: t-interval bands over replications, Kaplan-Meier steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartsim.decide.stats import mean_ci, t_half_width
from cartsim.report import plots


def resources(levels: list[float]) -> pd.DataFrame:
    """One resource, one week, one replication per level (constant over the week)."""
    return pd.DataFrame(
        [
            {"replication": r, "arm": "cart", "resource": "ward", "day": d, "in_use": 10.0 + x}
            | {"queue_length": 0.0}
            for r, x in enumerate(levels)
            for d in range(7)
        ]
    )


@pytest.mark.parametrize("levels", [[0.0, 1.0], [0.0, 1.0, 3.0, 4.0, 7.0]])
def test_resource_band_is_the_t_interval_over_replications(levels: list[float]) -> None:
    fig = plots.plot_resource_use(resources(levels), bin_days=7)
    assert fig is not None
    band = fig.data[0]
    assert band.fill == "toself"
    n = len(levels)
    half = stats.t.ppf(0.975, n - 1) * np.std(levels, ddof=1) / np.sqrt(n)
    mean = 10.0 + np.mean(levels)
    np.testing.assert_allclose(band.y, [mean + half, mean - half], rtol=1e-6)
    normal = 1.96 * np.std(levels, ddof=1) / np.sqrt(n)
    assert abs(band.y[0] - (mean + normal)) > 0.05  # a normal band would not pass


def test_t_half_width_matches_mean_ci_element_wise() -> None:
    rng = np.random.default_rng(5)
    samples = [rng.normal(size=n) for n in (2, 3, 10)]
    sd = [np.std(s, ddof=1) for s in samples]
    got = t_half_width(sd, [len(s) for s in samples])
    for s, h in zip(samples, got, strict=True):
        mean, low, high = mean_ci(s)
        assert h == pytest.approx(high - mean)
        assert h == pytest.approx(
            stats.t.ppf(0.975, len(s) - 1) * np.std(s, ddof=1) / len(s) ** 0.5
        )
    assert np.isnan(t_half_width(1.0, 1))  # one replication: no interval
    assert t_half_width(1.0, 2, level=0.9) == pytest.approx(stats.t.ppf(0.95, 1) / np.sqrt(2))


def product_limit(time: np.ndarray, event: np.ndarray) -> dict[float, float]:
    """Survival just after each distinct time, by the definition (censored at t: at risk at t)."""
    out, surv = {}, 1.0
    for t in np.unique(time):
        at_risk = np.sum(time >= t)
        deaths = np.sum((time == t) & event)
        surv *= 1.0 - deaths / at_risk
        out[float(t)] = surv
    return out


@pytest.mark.parametrize("seed", range(5))
def test_kaplan_meier_equals_the_product_limit_on_censored_data_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    time = rng.integers(0, 15, size=n).astype(float)  # many ties, event and censoring alike
    event = rng.random(n) < 0.6
    steps = plots.kaplan_meier(time, event)
    expected = product_limit(time, event)
    assert steps.x[0] == 0.0 and steps.y[0] == 1.0
    assert steps.x[-1] == time.max()
    for x, y in zip(steps.x[1:], steps.y[1:], strict=True):
        assert y == pytest.approx(expected[float(x)])
    assert set(expected) <= set(steps.x.tolist())
    assert np.all(steps.low <= steps.y + 1e-12) and np.all(steps.y <= steps.high + 1e-12)
    assert np.all((steps.low >= 0) & (steps.high <= 1))


def test_kaplan_meier_censors_infinite_follow_up_and_stays_at_one_without_events() -> None:
    steps = plots.kaplan_meier(np.array([2.0, np.inf, 5.0]), np.array([True, False, False]))
    assert steps.x[-1] == 5.0
    np.testing.assert_allclose(steps.y, [1.0, 2 / 3, 2 / 3])
    flat = plots.kaplan_meier(np.array([3.0, 4.0]), np.array([False, False]))
    np.testing.assert_allclose(flat.x, [0.0, 4.0])
    np.testing.assert_allclose(flat.y, [1.0, 1.0])
