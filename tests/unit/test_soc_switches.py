"""The standard-of-care course's switch days: exponential sojourns from the named uniforms."""

from __future__ import annotations

import math

import numpy as np
from builders import make_scenario, scenario_dict

from cartsim.engine.cohort import make_cohort
from cartsim.engine.mortality import soc_switch_days
from cartsim.engine.streams import Streams
from cartsim.inputs.units import DAYS_PER_YEAR


def switches(p_remit: float, flare: float):
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
