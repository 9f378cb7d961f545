"""Unit tests for cartsim.evaluate.discounting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartsim.evaluate.discounting import (
    continuous_rate,
    discount_factor,
    discounted_integral,
    discounted_point,
    discounted_polynomial_integral,
)

times = st.floats(min_value=0.0, max_value=60.0, allow_nan=False)
rates = st.floats(min_value=0.0, max_value=0.2, allow_nan=False)
levels = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)


def test_continuous_rate_is_log_one_plus_r() -> None:
    assert continuous_rate(0.03) == pytest.approx(math.log(1.03))
    assert continuous_rate(0.0) == 0.0


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf])
def test_invalid_rate_rejected(bad: float) -> None:
    with pytest.raises(ValueError):
        discount_factor(1.0, bad)


def test_discount_factor_matches_annual_effective_rate() -> None:
    assert discount_factor(1.0, 0.03) == pytest.approx(1 / 1.03)
    assert discount_factor(10.0, 0.035) == pytest.approx(1.035**-10)
    assert discount_factor(0.0, 0.03) == 1.0
    assert discount_factor(7.3, 0.0) == 1.0


def test_discount_factor_vectorised() -> None:
    t = np.array([0.0, 1.0, 2.5])
    out = discount_factor(t, 0.03)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, 1.03**-t)
    np.testing.assert_array_equal(discount_factor(t, 0.0), np.ones(3))


def test_constant_stream_closed_form() -> None:
    # 1 EUR per year for 10 years at 3%: (1 - 1.03^-10) / ln(1.03)
    expected = (1 - 1.03**-10) / math.log(1.03)
    assert discounted_integral(0.0, 10.0, 0.03) == pytest.approx(expected, rel=1e-12)
    assert discounted_integral(0.0, 10.0, 0.03, level=2500.0) == pytest.approx(
        2500.0 * expected, rel=1e-12
    )


def test_deferred_stream_closed_form() -> None:
    # Stream from year 2 to 5 equals the 3-year stream discounted by 2 years.
    expected = 1.03**-2 * (1 - 1.03**-3) / math.log(1.03)
    assert discounted_integral(2.0, 5.0, 0.03) == pytest.approx(expected, rel=1e-12)


def test_perpetuity() -> None:
    assert discounted_integral(0.0, math.inf, 0.03) == pytest.approx(1 / math.log(1.03))


def test_rate_zero_is_undiscounted() -> None:
    assert discounted_integral(1.5, 4.0, 0.0, level=0.8) == pytest.approx(0.8 * 2.5)
    assert discounted_point(12.0, 0.0, 1000.0) == 1000.0


def test_empty_and_reversed_intervals_are_zero() -> None:
    assert discounted_integral(3.0, 3.0, 0.03) == 0.0
    assert discounted_integral(5.0, 2.0, 0.03, level=10.0) == 0.0
    assert discounted_integral(5.0, 2.0, 0.0, level=10.0) == 0.0


def test_integral_broadcasts_arrays() -> None:
    t0 = np.array([0.0, 1.0, 4.0])
    t1 = np.array([[2.0], [3.0]])
    level = np.array([1.0, 2.0, 3.0])
    out = discounted_integral(t0, t1, 0.03, level)
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert out[i, j] == pytest.approx(
                discounted_integral(float(t0[j]), float(t1[i, 0]), 0.03, float(level[j]))
            )
    assert out[0, 2] == 0.0  # t1 < t0


def test_nan_bounds_propagate() -> None:
    assert math.isnan(discounted_integral(0.0, math.nan, 0.03))


def test_point_matches_factor() -> None:
    assert discounted_point(4.0, 0.03, 350_000.0) == pytest.approx(350_000.0 / 1.03**4)
    out = discounted_point(np.array([0.0, 1.0]), 0.03, np.array([10.0, 20.0]))
    np.testing.assert_allclose(out, [10.0, 20.0 / 1.03])


def test_integral_matches_numerical_quadrature() -> None:
    s = np.linspace(1.0, 6.0, 200_001)
    f = 1200.0 * 1.04**-s
    numeric = float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(s)))
    assert discounted_integral(1.0, 6.0, 0.04, 1200.0) == pytest.approx(numeric, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(t0=times, a=times, b=times, rate=rates, level=levels)
def test_additivity_over_split_intervals(
    t0: float, a: float, b: float, rate: float, level: float
) -> None:
    mid, t1 = t0 + a, t0 + a + b
    whole = discounted_integral(t0, t1, rate, level)
    parts = discounted_integral(t0, mid, rate, level) + discounted_integral(mid, t1, rate, level)
    assert whole == pytest.approx(parts, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(t0=times, length=times, rate=rates, level=levels)
def test_discounted_not_above_undiscounted(
    t0: float, length: float, rate: float, level: float
) -> None:
    t1 = t0 + length
    disc = discounted_integral(t0, t1, rate, level)
    undisc = discounted_integral(t0, t1, 0.0, level)
    assert 0.0 <= disc <= undisc * (1 + 1e-12) + 1e-12


@settings(max_examples=200, deadline=None)
@given(t0=times, length=times, r1=rates, r2=rates, level=levels)
def test_monotone_non_increasing_in_rate(
    t0: float, length: float, r1: float, r2: float, level: float
) -> None:
    lo, hi = sorted((r1, r2))
    v_lo = discounted_integral(t0, t0 + length, lo, level)
    v_hi = discounted_integral(t0, t0 + length, hi, level)
    assert v_hi <= v_lo * (1 + 1e-12) + 1e-12
    assert discounted_point(t0, hi, level) <= discounted_point(t0, lo, level) * (1 + 1e-12)


def test_zero_rate_never_discounts_even_at_infinite_time() -> None:
    assert discount_factor(math.inf, 0.0) == 1.0
    assert discount_factor(math.inf, 0.03) == 0.0
    np.testing.assert_array_equal(discount_factor(np.array([0.0, 7.5, math.inf]), 0.0), 1.0)
    assert discounted_integral(2.0, math.inf, 0.0, 3.0) == math.inf


# ---- polynomial flows (age-scaled utilities) ------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, 0.015, 0.035, 0.2])
def test_polynomial_integral_matches_numerical_quadrature(rate: float) -> None:
    """Closed form against scipy's quadrature of ``p(t) (1 + r)^-t`` for random polynomials."""
    from scipy.integrate import quad

    rng = np.random.default_rng(7)
    for _ in range(30):
        t0, length = rng.uniform(0.0, 30.0), rng.uniform(0.0, 20.0)
        c = rng.normal(size=3) * np.array([1.0, 0.05, 0.001])
        want = quad(
            lambda s, c=c: (c[0] + c[1] * s + c[2] * s * s) * (1 + rate) ** -s, t0, t0 + length
        )
        got = discounted_polynomial_integral(t0, t0 + length, rate, c)
        assert got == pytest.approx(want[0], rel=1e-9, abs=1e-12)


def test_polynomial_integral_of_a_constant_is_the_flat_integral() -> None:
    t0, t1 = np.array([0.0, 1.5, 3.0, 4.0]), np.array([2.0, 1.5, 10.0, np.inf])
    for rate in (0.0, 0.035):
        if rate == 0.0:
            t1 = np.where(np.isinf(t1), 50.0, t1)
        got = discounted_polynomial_integral(t0, t1, rate, [[2.0], [0.0], [0.0]])
        np.testing.assert_allclose(got, discounted_integral(t0, t1, rate, 2.0), rtol=1e-12)


def test_polynomial_integral_reversed_interval_is_zero_and_perpetuity_finite() -> None:
    assert discounted_polynomial_integral(5.0, 2.0, 0.03, [1.0, 0.1, 0.01]) == 0.0
    # int_0^inf (1 + t) e^{-d t} dt = 1/d + 1/d^2
    delta = math.log(1.03)
    got = discounted_polynomial_integral(0.0, np.inf, 0.03, [1.0, 1.0])
    assert got == pytest.approx(1 / delta + 1 / delta**2, rel=1e-12)


def test_stacked_flows_give_exactly_the_row_by_row_values() -> None:
    """Valuing many flows of all patients in one call (flows × patients, coefficients per
    patient) gives bit for bit what one call per flow gives."""
    rng = np.random.default_rng(11)
    flows, patients = 7, 53
    t0 = rng.uniform(0.0, 20.0, (flows, patients))
    t1 = t0 + rng.uniform(-1.0, 15.0, (flows, patients))
    coef = rng.normal(size=(3, patients)) * np.array([[1.0], [0.02], [0.0004]])
    level = rng.uniform(0.0, 1e5, (flows, patients))
    for rate in (0.0, 0.035):
        whole = discounted_polynomial_integral(t0, t1, rate, coef[:, None, :])
        flat = discounted_integral(t0, t1, rate, level)
        for row in range(flows):
            one = discounted_polynomial_integral(t0[row], t1[row], rate, coef)
            np.testing.assert_array_equal(whole[row], one)
            np.testing.assert_array_equal(
                flat[row], discounted_integral(t0[row], t1[row], rate, level[row])
            )
