"""The excess hazard of a disease state reaches the simulated death days through the disease
course: active-state excess shortens lives on standard of care, remission excess acts only in
remission (same patients, same death draws)."""

from __future__ import annotations

import numpy as np
from builders import make_scenario, scenario_dict

from cartsim.runs.experiment import simulate

MORTALITY = {"female": {"a": 1.4e-5, "b": 0.1}, "male": {"a": 3.9e-5, "b": 0.092}}


def death_days(
    p_remit: float, active: float, remission: float, treated: bool = False
) -> np.ndarray:
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 200}},
        mortality=MORTALITY,
        economics={"horizon_years": 10, "discount_rate_costs": 0, "discount_rate_effects": 0},
        disease_course={
            "SLE": {
                "utility_active": 0.5,
                "utility_remission": 0.8,
                "remission_prob_per_year": p_remit,
                "relapse_hazard_per_year": 0.0,
                "excess_hazard_active_per_year": active,
                "excess_hazard_remission_per_year": remission,
            }
        },
    )
    data["resources"] = {}
    data["arms"] = {"soc": {"stages": [{"name": "continue", "kind": "delay", "duration": 0}]}}
    if treated:  # every patient treated at once and in remission 30 days later, for good
        data["arms"] = {
            "cure": {
                "stages": [{"name": "infusion", "kind": "treatment"}],
                "outcomes": {"SLE": {"response": 1.0, "response_days": 30}},
            }
        }
    patients = simulate(make_scenario(data), 0, events=False).patients
    assert len(patients) > 100
    return patients["death_day"].to_numpy()


def test_active_excess_shortens_lives_on_standard_of_care() -> None:
    plain, excess = death_days(0.0, 0.0, 0.0), death_days(0.0, 0.3, 0.0)
    assert (excess <= plain).all() and (excess < plain).mean() > 0.95


def test_remission_excess_acts_only_in_remission() -> None:
    never = death_days(0.0, 0.0, 0.0)
    np.testing.assert_array_equal(death_days(0.0, 0.0, 0.3), never)
    remit = death_days(0.9, 0.0, 0.0)
    shorter = death_days(0.9, 0.0, 0.3)
    assert (shorter <= remit).all() and (shorter < remit).mean() > 0.5


def test_remission_excess_reaches_treated_responders() -> None:
    plain = death_days(0.0, 0.0, 0.0, treated=True)
    shorter = death_days(0.0, 0.0, 0.3, treated=True)
    assert (shorter <= plain).all() and (shorter < plain).mean() > 0.95
    # active excess acts only in the 30 days before the response: a small cumulative hazard
    active = death_days(0.0, 0.3, 0.0, treated=True)
    assert (active <= plain).all()
    assert (plain - active).mean() < 0.2 * (plain - shorter).mean()
