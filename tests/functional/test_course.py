"""The disease course on standard of care: patients remit and flare at the scenario's yearly
rates, before treatment, without treatment and after a relapse, and each state is valued."""

from __future__ import annotations

import math

import numpy as np
from builders import make_scenario, scenario_dict

from cartsim.runs.experiment import simulate

DAYS = 365.25
P_REMIT, FLARE, HORIZON = 0.26, 0.5, 10.0  # per year, per year, years


def soc_scenario(**changes):
    """An untreated arm whose utility is 1 in remission and 0 when active, undiscounted:
    undiscounted QALYs are the years spent in remission."""
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 600}},
        economics={"horizon_years": HORIZON, "discount_rate_costs": 0, "discount_rate_effects": 0},
        disease_course={
            "SLE": {
                "utility_active": 0.0,
                "utility_remission": 1.0,
                "cost_active_per_year": 10000,
                "cost_remission_per_year": 1000,
                "remission_prob_per_year": P_REMIT,
                "relapse_hazard_per_year": FLARE,
            }
        },
    )
    data["resources"] = {}
    data["arms"] = {
        "soc": {"stages": [{"name": "continue", "kind": "delay", "duration": 0}]},
        "late": {
            "stages": [
                {"name": "wait", "kind": "delay", "duration": 2 * DAYS},
                {"name": "infusion", "kind": "treatment"},
            ],
            "outcomes": {"SLE": {"response": 0.0}},
        },
    }
    return make_scenario(data, **changes)


def expected_remission_years(horizon: float) -> float:
    """Two-state Markov chain from active: mean time in remission over ``horizon`` years."""
    lam, mu = -math.log(1 - P_REMIT), FLARE
    total = lam + mu
    return lam / total * (horizon - (1 - math.exp(-total * horizon)) / total)


def test_untreated_patients_remit_and_flare_at_the_yearly_rates() -> None:
    p = simulate(soc_scenario(), 0, events=False).patients
    soc = p[p["arm"] == "soc"]
    years = soc["qaly_undiscounted"].to_numpy()
    assert len(years) > 300
    half_width = 4 * years.std(ddof=1) / math.sqrt(len(years))  # far out in the tails
    assert abs(years.mean() - expected_remission_years(HORIZON)) < half_width
    assert 0.1 < (years > 0).mean() < 1  # some remit, not all: the state is not frozen
    # each state costs its own yearly cost
    np.testing.assert_allclose(soc["cost_remission_care"], 1000 * years, rtol=1e-9)
    np.testing.assert_allclose(soc["cost_active_disease"], 10000 * (HORIZON - years), rtol=1e-9)


def test_the_course_before_treatment_is_the_same_in_every_arm() -> None:
    p = simulate(soc_scenario(economics={"horizon_years": 2}), 0, events=False).patients
    soc = p[p["arm"] == "soc"].reset_index(drop=True)
    late = p[p["arm"] == "late"].reset_index(drop=True)
    # over the two years before treatment both arms live the same standard-of-care course
    np.testing.assert_allclose(late["qaly_undiscounted"], soc["qaly_undiscounted"], atol=1e-9)
    assert (soc["qaly_undiscounted"] > 0).any()


def test_non_responders_keep_the_standard_of_care_course_after_treatment() -> None:
    p = simulate(soc_scenario(), 0, events=False).patients
    late = p[p["arm"] == "late"]["qaly_undiscounted"].to_numpy()
    assert (late > 0).mean() > 0.3  # they can still remit after treatment


def test_remission_lowers_mortality_on_standard_of_care() -> None:
    mortality = {"female": {"a": 1.4e-5, "b": 0.1}, "male": {"a": 3.9e-5, "b": 0.092}}

    def deaths(p_remit: float) -> int:
        scenario = soc_scenario(
            mortality=mortality,
            disease_course={
                "SLE": {
                    "remission_prob_per_year": p_remit,
                    "smr_active": 30.0,
                    "smr_remission": 1.0,
                }
            },
        )
        p = simulate(scenario, 0, events=False).patients
        soc = p[p["arm"] == "soc"]
        return int((soc["death_day"] < soc["arrival_day"] + HORIZON * DAYS).sum())

    # same patients and death draws: remission can only postpone deaths
    assert deaths(0.6) < deaths(0.0)
