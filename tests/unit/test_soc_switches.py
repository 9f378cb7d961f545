"""The standard-of-care course's switch days: exponential sojourns from the named uniforms."""

from __future__ import annotations

import math

import numpy as np
from builders import make_scenario, scenario_dict

from cartsim.engine import cohort as cohort_module
from cartsim.engine.cohort import make_cohort
from cartsim.engine.mortality import soc_switch_days, soc_switch_days_from_referral
from cartsim.engine.streams import Streams
from cartsim.inputs.units import DAYS_PER_YEAR


def switches(p_remit: float, flare: float, with_scenario: bool = False):
    data = scenario_dict(demand={"SLE": {"rate_per_year": 200}})
    data["disease_course"] = {
        "SLE": {
            "utility_active": 0.5,
            "utility_remission": 0.8,
            "remission_prob_per_year": p_remit,
            "relapse_hazard_per_year": flare,
        }
    }
    scenario = make_scenario(data)
    cohort = make_cohort(scenario, Streams(seed=4))
    if with_scenario:
        return scenario, cohort
    return cohort, soc_switch_days(scenario, cohort, cohort.arrival_day, "pre")


def test_each_sojourn_is_its_uniform_through_the_exponential_of_its_rate() -> None:
    cohort, days = switches(0.26, 0.5)
    remit = -math.log1p(-0.26)
    first = cohort.arrival_day - np.log1p(-cohort.draw("soc_pre_0")) / remit * DAYS_PER_YEAR
    np.testing.assert_allclose(days[:, 0], first, rtol=1e-12)
    flare = first - np.log1p(-cohort.draw("soc_pre_1")) / 0.5 * DAYS_PER_YEAR
    np.testing.assert_allclose(days[:, 1], flare, rtol=1e-12)
    assert (np.diff(days, axis=1) > 0).all()  # every state lasts


def test_a_zero_rate_never_switches() -> None:
    _, days = switches(0.26, 0.0)
    assert np.isfinite(days[:, 0]).all() and np.isinf(days[:, 1:]).all()  # remits, never flares


def test_a_certain_remission_still_takes_time() -> None:
    """A remission probability of 1 a year is a very high but finite hazard, not an instant."""
    cohort, days = switches(1.0, 0.5)
    wait = days[:, 0] - cohort.arrival_day
    assert (wait > 0).all() and np.isfinite(wait).all()
    assert wait.mean() < 30  # a hazard of -ln(1e-12) a year: about two weeks on average


def test_the_days_from_referral_are_computed_once_per_cohort_and_course(monkeypatch) -> None:
    """Every arm of a replication asks for the same switch days from referral: the first answer
    is kept (read-only) and given again; another course, or a cohort too large to keep, gets
    its own."""
    scenario, cohort = switches(0.26, 0.5, with_scenario=True)
    first = soc_switch_days_from_referral(scenario, cohort)
    expected = soc_switch_days(scenario, cohort, cohort.arrival_day, "pre")
    assert first.tobytes() == expected.tobytes() and not first.flags.writeable
    assert soc_switch_days_from_referral(scenario, cohort) is first
    other, _ = switches(0.26, 0.1, with_scenario=True)
    changed = soc_switch_days_from_referral(other, cohort)
    assert changed is not first and not np.array_equal(changed[:, 1], first[:, 1])
    monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", 0)
    fresh = make_cohort(scenario, Streams(seed=4))
    kept = soc_switch_days_from_referral(scenario, fresh)
    assert not fresh.memo and kept.tobytes() == expected.tobytes()


def test_a_result_is_kept_up_to_a_quarter_of_the_cache_and_not_beyond(monkeypatch) -> None:
    """The memo keeps a result of exactly a quarter of the cache's bytes and none a byte over
    (catches ``<=`` made ``<``, ``//`` made ``*`` and another share of the cache)."""
    scenario, _ = switches(0.26, 0.5, with_scenario=True)
    size = make_cohort(scenario, Streams(seed=4)).size * 2 * 12 * 8  # bytes of the switch days
    for cache, kept in ((4 * size, True), (4 * size - 4, False)):
        monkeypatch.setattr(cohort_module, "DRAW_CACHE_BYTES", cache)
        fresh = make_cohort(scenario, Streams(seed=4))
        soc_switch_days_from_referral(scenario, fresh)
        assert bool(fresh.memo) is kept, (cache, size)
