"""Gompertz death times against their closed form: survival, inverse, SMR segments, the cap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from cartsim.engine.mortality import cumulative_hazard, death_years
from cartsim.inputs.clinical import Gompertz, Mortality

MORTALITY = Mortality(
    female=Gompertz(a=2e-5, b=0.095), male=Gompertz(a=4e-5, b=0.09), max_age=100.0
)
U = np.array([0.0, 1e-9, 1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])


def survival(t: float, age: float, smr: float, a: float, b: float) -> float:
    """S(t) = exp(-smr * a/b * (e^{b(age+t)} - e^{b age}))."""
    return math.exp(-smr * a / b * (math.exp(b * (age + t)) - math.exp(b * age)))


def constant(smr: float, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.full(n, np.inf), np.full(n, smr))]


@pytest.mark.parametrize(("female", "age", "smr"), [(True, 30.0, 1.0), (False, 55.0, 3.0)])
def test_constant_smr_death_time_is_the_inverse_of_survival(
    female: bool, age: float, smr: float
) -> None:
    n = U.size
    years = death_years(MORTALITY, np.full(n, age), np.full(n, female), U, constant(smr, n))
    g = MORTALITY.female if female else MORTALITY.male
    inside = years < 100.0 - age
    assert inside.sum() >= 8
    s = np.array([survival(t, age, smr, g.a, g.b) for t in years[inside]])
    np.testing.assert_allclose(s, 1.0 - U[inside], rtol=1e-9)
    # the inverse written out: t = ln(e^{b age} - b ln(1-u) / (smr a)) / b - age
    closed = np.log(np.exp(g.b * age) - g.b * np.log1p(-U) / (smr * g.a)) / g.b - age
    np.testing.assert_allclose(years, np.minimum(closed, 100.0 - age), rtol=1e-9, atol=1e-12)
    assert years[0] == pytest.approx(0.0, abs=1e-12)


def test_sex_picks_its_own_parameters() -> None:
    u = np.full(2, 0.5)
    years = death_years(MORTALITY, np.full(2, 40.0), np.array([True, False]), u, constant(1.0, 2))
    for t, g in zip(years, (MORTALITY.female, MORTALITY.male), strict=True):
        assert survival(t, 40.0, 1.0, g.a, g.b) == pytest.approx(0.5, rel=1e-9)
    assert years[0] > years[1]  # lower female hazard at 40


def piecewise_death(
    u: float, age: float, segments: list[tuple[float, float]], g: Gompertz
) -> float:
    """Independent solution: the root of H(t) = -ln(1-u) for a piecewise-constant SMR."""

    def hazard(t: float) -> float:
        total, start = 0.0, 0.0
        for end, smr in segments:
            stop = min(t, end)
            if stop > start:
                total += (
                    smr * g.a / g.b * (math.exp(g.b * (age + stop)) - math.exp(g.b * (age + start)))
                )
            start = end
            if t <= end:
                break
        return total

    target = -math.log1p(-u)
    return optimize.brentq(lambda t: hazard(t) - target, 0.0, 200.0, xtol=1e-13, rtol=1e-14)


def test_piecewise_smr_segments_match_a_root_finder() -> None:
    age, g = 45.0, MORTALITY.male
    segments = [(0.5, 8.0), (3.0, 2.0), (math.inf, 1.2)]
    n = U.size
    arrays = [(np.full(n, end), np.full(n, smr)) for end, smr in segments]
    years = death_years(MORTALITY, np.full(n, age), np.zeros(n, dtype=bool), U, arrays)
    expected = [min(piecewise_death(u, age, segments, g), 100.0 - age) if u > 0 else 0.0 for u in U]
    np.testing.assert_allclose(years, expected, rtol=1e-9, atol=1e-12)
    # deaths in every segment were tested
    assert (years < 0.5).any() and ((years > 0.5) & (years < 3)).any() and (years > 3).any()


def test_a_first_segment_only_changes_deaths_after_it_through_its_hazard() -> None:
    """Deaths inside the first segment ignore later SMRs; later deaths are delayed by a lower
    first-segment SMR."""
    n, age = U.size, np.full(U.size, 40.0)
    female = np.ones(n, dtype=bool)
    high = death_years(
        MORTALITY,
        age,
        female,
        U,
        [(np.full(n, 2.0), np.full(n, 50.0)), (np.full(n, np.inf), np.full(n, 1.0))],
    )
    alone = death_years(MORTALITY, age, female, U, constant(50.0, n))
    early = alone < 2.0
    assert early.any() and (~early).any()
    np.testing.assert_allclose(high[early], alone[early], rtol=1e-12)
    assert (high[~early] > alone[~early]).all()


def test_death_is_capped_at_max_age() -> None:
    age = np.array([30.0, 99.5, 100.0])
    u = np.full(3, 1.0 - 1e-15)
    years = death_years(MORTALITY, age, np.ones(3, dtype=bool), u, constant(1.0, 3))
    np.testing.assert_allclose(years, [70.0, 0.5, 0.0])
    # and nobody dies later than the cap whatever the SMR segments
    segments = [(np.full(3, 10.0), np.full(3, 1e-6)), (np.full(3, np.inf), np.full(3, 1e-6))]
    years = death_years(MORTALITY, age, np.ones(3, dtype=bool), np.full(3, 0.9), segments)
    np.testing.assert_allclose(years, 100.0 - age)


def test_death_time_increases_with_u_and_falls_with_smr() -> None:
    n, age, female = U.size, np.full(U.size, 50.0), np.zeros(U.size, dtype=bool)
    low = death_years(MORTALITY, age, female, U, constant(1.0, n))
    high = death_years(MORTALITY, age, female, U, constant(4.0, n))
    assert (np.diff(low) > 0).all()
    assert (high[1:] < low[1:]).all()


def test_cumulative_hazard_closed_form() -> None:
    a, b = np.array([1e-4]), np.array([0.1])
    h = cumulative_hazard(a, b, np.array([2.0]), np.array([40.0]), np.array([50.0]))
    assert h[0] == pytest.approx(2.0 * 1e-4 / 0.1 * (math.exp(5.0) - math.exp(4.0)), rel=1e-12)
