"""An excess (additive) hazard per year on top of SMR x Gompertz: death times against an
independent root finder, the pure-excess limit, segments, and the scenario wiring."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from cartsim.engine.mortality import age_at_hazard, cumulative_hazard, death_years
from cartsim.inputs.clinical import DiseaseCourse, Gompertz, Mortality

MORTALITY = Mortality(
    female=Gompertz(a=2e-5, b=0.095), male=Gompertz(a=4e-5, b=0.09), max_age=100.0
)
U = np.array([1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])


def hazard(t: float, age: float, smr: float, excess: float, g: Gompertz) -> float:
    """H(t) = smr a/b (e^{b(age+t)} - e^{b age}) + excess t, written out."""
    return smr * g.a / g.b * (math.exp(g.b * (age + t)) - math.exp(g.b * age)) + excess * t


@pytest.mark.parametrize(
    ("female", "age", "smr", "excess"),
    [(True, 45.0, 1.0, 0.021), (False, 30.0, 2.5, 0.005), (True, 60.0, 0.5, 0.3)],
)
def test_death_time_solves_the_cumulative_hazard(
    female: bool, age: float, smr: float, excess: float
) -> None:
    n = U.size
    segments = [(np.full(n, np.inf), np.full(n, smr), np.full(n, excess))]
    years = death_years(MORTALITY, np.full(n, age), np.full(n, female), U, segments)
    g = MORTALITY.female if female else MORTALITY.male
    for t, u in zip(years, U, strict=True):
        root = optimize.brentq(
            lambda x, h: hazard(x, age, smr, excess, g) - h, 0.0, 200.0, args=(-math.log1p(-u),)
        )
        assert t == pytest.approx(min(root, 100.0 - age), rel=1e-9, abs=1e-12)


def test_excess_shortens_every_life_that_ends_before_the_cap() -> None:
    n = U.size
    age, female = np.full(n, 45.0), np.ones(n, dtype=bool)
    plain = death_years(MORTALITY, age, female, U, [(np.full(n, np.inf), np.ones(n))])
    zero = [(np.full(n, np.inf), np.ones(n), np.zeros(n))]
    np.testing.assert_array_equal(death_years(MORTALITY, age, female, U, zero), plain)
    extra = [(np.full(n, np.inf), np.ones(n), np.full(n, 0.02))]
    shorter = death_years(MORTALITY, age, female, U, extra)
    capped = plain >= 100.0 - 45.0
    assert capped.sum() == 1 and (shorter[~capped] < plain[~capped]).all()


def test_a_dominant_excess_gives_exponential_death_times() -> None:
    tiny = Mortality(female=Gompertz(a=1e-15, b=0.05), male=Gompertz(a=1e-15, b=0.05))
    n = U.size
    segments = [(np.full(n, np.inf), np.ones(n), np.full(n, 0.04))]
    years = death_years(tiny, np.full(n, 20.0), np.ones(n, dtype=bool), U, segments)
    expected = np.minimum(-np.log1p(-U) / 0.04, 80.0)
    np.testing.assert_allclose(years, expected, rtol=1e-9)


def test_excess_acts_only_in_its_own_segment() -> None:
    """Excess in years 0-5 only, then none: the root of the piecewise hazard."""
    n, age, cut, excess = U.size, 50.0, 5.0, 0.1
    g = MORTALITY.male
    segments = [
        (np.full(n, cut), np.ones(n), np.full(n, excess)),
        (np.full(n, np.inf), np.ones(n), np.zeros(n)),
    ]
    years = death_years(MORTALITY, np.full(n, age), np.zeros(n, dtype=bool), U, segments)

    def total(t: float) -> float:
        return hazard(t, age, 1.0, 0.0, g) + excess * min(t, cut)

    for t, u in zip(years, U, strict=True):
        root = optimize.brentq(lambda x, h: total(x) - h, 0.0, 200.0, args=(-math.log1p(-u),))
        assert t == pytest.approx(min(root, 100.0 - age), rel=1e-9, abs=1e-12)
    assert ((years < cut) == (total(cut) > -np.log1p(-U))).all()


def test_age_at_hazard_inverts_cumulative_hazard_elementwise() -> None:
    a, b = np.full(4, 3e-5), np.full(4, 0.09)
    smr, age0 = np.array([1.0, 4.0, 1.0, 2.0]), np.array([30.0, 45.0, 60.0, 70.0])
    excess = np.array([0.0, 0.02, 0.5, 0.001])
    target = np.array([0.05, 0.3, 2.0, 0.01])
    age1 = age_at_hazard(a, b, smr, age0, target, excess)
    np.testing.assert_allclose(cumulative_hazard(a, b, smr, age0, age1, excess), target, rtol=1e-10)


def test_disease_course_takes_excess_hazards_per_state() -> None:
    course = DiseaseCourse(
        utility_active=0.5,
        utility_remission=0.8,
        excess_hazard_active_per_year=0.021,
        excess_hazard_remission_per_year=0.005,
    )
    assert course.excess_hazard_active_per_year == 0.021
    assert (
        DiseaseCourse(utility_active=0.5, utility_remission=0.8).excess_hazard_active_per_year == 0
    )
    with pytest.raises(ValueError, match="excess_hazard_active_per_year"):
        DiseaseCourse(utility_active=0.5, utility_remission=0.8, excess_hazard_active_per_year=-0.1)


def reference_age_at_hazard(a, b, smr, age0, target, excess):
    """Newton's method as first written: every patient, the hazard recomputed by its function."""
    gompertz = np.log(np.exp(b * age0) + b * target / (smr * a)) / b
    excess = np.broadcast_to(np.asarray(excess, dtype=float), np.shape(gompertz))
    if not np.any(excess > 0):
        return gompertz
    with np.errstate(divide="ignore"):
        additive = np.where(excess > 0, age0 + target / excess, np.inf)
    x = np.minimum(gompertz, additive)
    for _ in range(60):
        f = cumulative_hazard(a, b, smr, age0, x, excess) - target
        step = f / (smr * a * np.exp(b * x) + excess)
        x = x - step
        if np.all(np.abs(step) < 1e-12 * np.maximum(1.0, np.abs(x))):
            break
    return np.where(excess > 0, x, gompertz)


@pytest.mark.parametrize("seed", range(5))
def test_age_at_hazard_equals_its_first_form_bit_for_bit(seed: int) -> None:
    """The terms computed once per Newton step, and no step when no needed age has an excess
    hazard, give the very ages of the first form wherever they are needed."""
    rng = np.random.default_rng(seed)
    n = 300
    a, b = rng.uniform(1e-5, 5e-5, n), rng.uniform(0.07, 0.11, n)
    smr, age0 = rng.uniform(1, 4, n), rng.uniform(20, 80, n)
    target = -np.log1p(-rng.random(n)) * rng.uniform(0.01, 2, n)
    excess = np.where(rng.random(n) < 0.3, rng.uniform(0.001, 0.05, n), 0.0)
    expected = reference_age_at_hazard(a, b, smr, age0, target, excess)
    np.testing.assert_array_equal(age_at_hazard(a, b, smr, age0, target, excess), expected)
    for needed in (rng.random(n) < 0.05, excess == 0, np.zeros(n, dtype=bool)):
        got = age_at_hazard(a, b, smr, age0, target, excess, needed)
        np.testing.assert_array_equal(got[needed], expected[needed])


def test_without_an_excess_hazard_the_age_is_gompertz_closed_form() -> None:
    """No excess given means none (catches a default other than 0): the closed form, exactly."""
    a, b, smr = np.full(3, 3e-5), np.full(3, 0.09), np.array([1.0, 2.0, 3.0])
    age0, target = np.array([30.0, 50.0, 70.0]), np.array([0.1, 0.5, 2.0])
    closed = np.log(np.exp(b * age0) + b * target / (smr * a)) / b
    np.testing.assert_array_equal(age_at_hazard(a, b, smr, age0, target), closed)


def reference_death_years(mortality, age, female, u, segments):
    """The piecewise death time computed for every segment, none skipped."""
    a = np.where(female, mortality.female.a, mortality.male.a)
    b = np.where(female, mortality.female.b, mortality.male.b)
    remaining, out, start = -np.log1p(-u), np.full(age.size, np.nan), np.zeros(age.size)
    for end, smr, excess in segments:
        cap_end = np.minimum(end, mortality.max_age - age)
        pending = np.isnan(out)
        h = cumulative_hazard(a, b, smr, age + start, age + np.maximum(cap_end, start), excess)
        dies_here = pending & (remaining < h)
        at = reference_age_at_hazard(a, b, smr, age + start, remaining, excess)
        out[dies_here] = at[dies_here] - age[dies_here]
        remaining = np.where(pending & ~dies_here, remaining - h, remaining)
        start = np.maximum(start, cap_end)
    cap = mortality.max_age - age
    return np.where(np.isnan(out), cap, np.minimum(out, cap))


def test_segments_nobody_lives_in_change_nothing() -> None:
    """Empty segments (ending before they start), NaN ends and segments after every death are
    skipped or computed: the death times are those of computing every segment."""
    rng = np.random.default_rng(11)
    n = 400
    age, female, u = rng.uniform(20, 80, n), rng.random(n) < 0.5, rng.random(n)
    ends = np.sort(rng.uniform(0, 60, (n, 8)), axis=1)
    ends[:, 3] = 0.0  # empty for everybody
    ends[:, 2] = 0.0
    ends[::5, 2] = np.nan  # NaN ends, as an undefined day gives, in an otherwise empty segment
    ends[: n // 2, 5] = ends[: n // 2, 4] - 1  # empty for half
    ends[::7, 6] = np.nan  # NaN ends among lived ones
    segments = [(ends[:, j], np.full(n, 1.0 + j), np.full(n, 0.01 * (j % 3))) for j in range(8)] + [
        (np.full(n, 0.0), np.full(n, 3.0), np.zeros(n))
    ] * 3  # after the last finite end
    segments.append((np.full(n, np.inf), np.full(n, 2.0), np.full(n, 0.05)))
    np.testing.assert_array_equal(
        death_years(MORTALITY, age, female, u, segments),
        reference_death_years(MORTALITY, age, female, u, segments),
    )
