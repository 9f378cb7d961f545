"""Costs and QALYs: a hand calculation, invariants, and waiting that costs health."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import BASELINE, make_scenario, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartsim.decide.stats import paired_difference_ci
from cartsim.inputs import loading
from cartsim.runs.experiment import run_replications, simulate

DAYS = 365.25


def fixed_economics(**changes):
    data = scenario_dict(
        resources={},
        economics={"horizon_years": 10, "discount_rate_costs": 0.03, "discount_rate_effects": 0.03},
        disease_course={
            "SLE": {
                "utility_active": 0.5,
                "utility_remission": 0.8,
                "cost_active_per_year": 12000,
                "cost_remission_per_year": 1200,
            }
        },
    )
    data["arms"] = {
        "cart": {
            "stages": [
                {
                    "name": "preparation",
                    "kind": "delay",
                    "duration": 30,
                    "costs": {"preparation": 1000},
                },
                {"name": "infusion", "kind": "treatment"},
            ],
            "outcomes": {"SLE": {"response": 1.0, "response_days": 60}},
        }
    }
    return make_scenario(data, **changes)


def discounted(a: float, b: float, rate: float = 0.03) -> float:
    delta = math.log(1 + rate)
    return (math.exp(-delta * a) - math.exp(-delta * b)) / delta


def test_fully_fixed_scenario_matches_hand_calculation() -> None:
    patients = simulate(fixed_economics(), 0).patients
    assert len(patients) > 20
    r = 90 / DAYS  # response, years after referral (treatment on day 30)
    cost = 1000 + 12000 * discounted(0, r) + 1200 * discounted(r, 10)  # active until response
    qaly = 0.5 * discounted(0, r) + 0.8 * discounted(r, 10)
    np.testing.assert_allclose(patients["cost_total"], cost, rtol=1e-9)
    np.testing.assert_allclose(patients["qaly_total"], qaly, rtol=1e-9)
    np.testing.assert_allclose(patients["qaly_undiscounted"], 0.5 * r + 0.8 * (10 - r), rtol=1e-9)
    np.testing.assert_allclose(patients["life_years"], 10.0)
    np.testing.assert_allclose(patients["cost_active_disease"], 12000 * discounted(0, r), rtol=1e-9)


def test_constant_stream_matches_closed_form_over_the_horizon() -> None:
    scenario = fixed_economics(arms={"cart": {"outcomes": {"SLE": {"response": 0.0}}}})
    patients = simulate(scenario, 0).patients
    # no response: active disease, 0.5 utility and 12,000 EUR a year for 10 years
    delta = math.log(1.03)
    np.testing.assert_allclose(patients["qaly_total"], 0.5 * (1 - math.exp(-10 * delta)) / delta)
    np.testing.assert_allclose(
        patients["cost_total"], 1000 + 12000 * (1 - math.exp(-10 * delta)) / delta
    )


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    u_active=st.floats(0.0, 1.0),
    u_remission=st.floats(0.0, 1.0),
    cost_active=st.floats(0, 1e5),
    response=st.floats(0, 1),
    relapse=st.floats(0, 2),
    rate=st.floats(0, 0.1),
    crs=st.floats(0, 1),
)
def test_invariants(u_active, u_remission, cost_active, response, relapse, rate, crs) -> None:
    scenario = make_scenario(
        scenario_dict(
            demand={"SLE": {"rate_per_year": 20}},
            economics={
                "horizon_years": 30,
                "discount_rate_costs": rate,
                "discount_rate_effects": rate,
            },
            mortality={"female": {"a": 1.4e-5, "b": 0.1}, "male": {"a": 3.9e-5, "b": 0.092}},
            disease_course={
                "SLE": {
                    "utility_active": u_active,
                    "utility_remission": u_remission,
                    "cost_active_per_year": cost_active,
                    "smr_active": 3.0,
                }
            },
            arms={
                "cart": {
                    "outcomes": {
                        "SLE": {
                            "response": response,
                            "relapse_hazard_per_year": relapse,
                            "trm": 0.05,
                        }
                    },
                    # no utility losses: discounting shrinks a loss, so with one the
                    # discounted QALYs could exceed the undiscounted ones
                    "adverse_events": {"crs": {"any": crs}, "serious_infection": crs},
                }
            },
        )
    )
    p = simulate(scenario, 0, events=False).patients
    costs = p[[c for c in p.columns if c.startswith("cost_")]]
    assert (costs >= -1e-9).all().all()
    assert (p["cost_total"] <= p["cost_undiscounted"] + 1e-6).all()
    assert (p["qaly_total"] <= p["life_years"] + 1e-9).all()
    assert (p["qaly_total"] <= p["qaly_undiscounted"] + 1e-9).all()
    assert (p["life_years"] <= 30 + 1e-9).all()


def test_outcome_draws_are_the_same_across_arms() -> None:
    data = scenario_dict(resources={"apheresis": {"capacity": "unlimited"}})
    course = {
        "outcomes": {"SLE": {"response": 0.6, "relapse_hazard_per_year": 0.2}},
        "adverse_events": {"crs": {"any": 0.7, "grade2_plus": 0.2}, "serious_infection": 0.3},
    }
    data["arms"] = {
        "fast": {
            "stages": [
                {"name": "go", "kind": "delay", "duration": 1},
                {"name": "t", "kind": "treatment"},
            ],
            **course,
        },
        "slow": {
            "stages": [
                {"name": "wait", "kind": "delay", "duration": 40},
                {"name": "t", "kind": "treatment"},
            ],
            **course,
        },
    }
    p = simulate(make_scenario(data), 0).patients
    fast = p[p["arm"] == "fast"].reset_index(drop=True)
    slow = p[p["arm"] == "slow"].reset_index(drop=True)
    both = fast["treatment_day"].notna() & slow["treatment_day"].notna()
    for column in ("crs_grade", "response", "serious_infection"):
        assert fast.loc[both, column].tolist() == slow.loc[both, column].tolist()
    gap = (slow["relapse_day"] - slow["response_day"]) - (
        fast["relapse_day"] - fast["response_day"]
    )
    np.testing.assert_allclose(gap[both].dropna(), 0.0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.statistical
def test_halving_manufacturing_capacity_costs_qalys(seed: int) -> None:
    def qalys(capacity: int) -> np.ndarray:
        scenario = loading.load(
            BASELINE,
            [
                f"resources.manufacturing.capacity={capacity}",
                "run.replications=12",
                f"run.seed={seed}",
                "demand.SLE.rate_per_year=16",
                "demand.SSc.rate_per_year=12",
                "demand.IIM.rate_per_year=8",
            ],
        ).build()
        metrics = run_replications(scenario, 12, events=False).metrics
        return metrics[metrics["metric"] == "mean_qaly_total"]["value"].to_numpy()

    full, half = qalys(2), qalys(1)
    mean, low, high = paired_difference_ci(full, half)
    assert low > 0, (mean, low, high)
