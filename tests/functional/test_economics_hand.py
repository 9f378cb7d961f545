"""Costs and QALYs of a fully fixed pathway against a calculation by hand: every cost category,
unequal discount rates, two inpatient stages at different day rates, ICU days, utility losses,
age-adjusted utilities and QALYs that never go below zero."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario, scenario_dict
from scipy.integrate import quad

from cartsim.evaluate.cashflows import Course, Lump, horizon_end
from cartsim.evaluate.economics import evaluate
from cartsim.inputs.clinical import Economics
from cartsim.inputs.loading import deep_merge
from cartsim.runs.experiment import simulate

DAYS = 365.25
R_COSTS, R_EFFECTS = 0.05, 0.015  # unequal on purpose: each flow must use its own rate


def disc(a_days: float, b_days: float, rate: float) -> float:
    """Present value of 1 a year from day a to day b (continuous, annual effective rate)."""
    delta = math.log(1 + rate)
    if delta == 0:
        return (b_days - a_days) / DAYS
    return (math.exp(-delta * a_days / DAYS) - math.exp(-delta * b_days / DAYS)) / delta


def point(amount: float, day: float, rate: float = R_COSTS) -> float:
    return amount * (1 + rate) ** (-day / DAYS)


def pathway(**changes) -> dict:
    """Referral, 10-day preparation, a 10-day stay at 100 a day with treatment on its day 2 and
    3 ICU days from day 3, then a 10-day step-down stay at 1,000 a day."""
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 20, "age": 40, "female": 1.0}},
        resources={
            "ward_bed": {"capacity": "unlimited"},
            "icu_bed": {"capacity": "unlimited"},
        },
        economics={
            "horizon_years": 10,
            "discount_rate_costs": R_COSTS,
            "discount_rate_effects": R_EFFECTS,
        },
        unit_costs={
            "tocilizumab_dose": 300,
            "serious_infection_episode": 5000,
            "ivig_per_year": 40000,
            "secondary_malignancy": 10000,
        },
        disease_course={
            "SLE": {
                "utility_active": 0.5,
                "utility_remission": 0.8,
                "cost_active_per_year": 12000,
                "cost_remission_per_year": 1200,
            }
        },
    )
    data["resources"].pop("apheresis")
    data["resources"].pop("manufacturing")
    data["arms"] = {
        "cart": {
            "stages": [
                {"name": "prep", "kind": "delay", "duration": 10, "costs": {"apheresis": 1000}},
                {
                    "name": "stay",
                    "kind": "inpatient",
                    "resource": "ward_bed",
                    "duration": 10,
                    "treatment_day": 2,
                    "cost_per_day": 100,
                    "costs": {"lymphodepletion": 500},
                    "icu": {
                        "resource": "icu_bed",
                        "duration": 3,
                        "onset_days": 1,
                        "probability": 1.0,
                        "cost_per_day": 2000,
                    },
                },
                {
                    "name": "step_down",
                    "kind": "inpatient",
                    "resource": "ward_bed",
                    "duration": 10,
                    "cost_per_day": 1000,
                },
            ],
            "outcomes": {
                # a Weibull of huge shape relapses at 1/hazard = 2 years after response
                "SLE": {
                    "response": 1.0,
                    "response_days": 60,
                    "relapse_hazard_per_year": 0.5,
                    "relapse_shape": 1e7,
                }
            },
            "adverse_events": {
                "crs": {"any": 1.0, "grade2_plus": 1.0},
                "tocilizumab_from_crs_grade": 2,
                "tocilizumab_doses": 2,
                "serious_infection": 1.0,
                "ivig": 1.0,
                "ivig_days": 0.2 * DAYS,
                "ivig_dose_fraction": 0.25,
                "secondary_malignancy": 1.0,
                "crs_disutility": 0.1,
                "crs_disutility_days": 14,
                "icu_disutility_per_day": 0.3,
            },
            "economics": {
                "follow_up_cost_per_year": 4000,
                "follow_up_years": 1,
                "relapse_cost": 7000,
                "episode_disutility": 0.2,
                "episode_disutility_days": 30,
            },
        }
    }
    return deep_merge(data, changes)


TREAT, RESPONSE = 12.0, 72.0
RELAPSE = RESPONSE + 2 * DAYS
END = 10 * DAYS
FOLLOW_UP_END = TREAT + DAYS


def expected_costs() -> dict[str, float]:
    return {
        "cost_apheresis": point(1000, 0),
        "cost_lymphodepletion": point(500, 10),
        # 13 days on the ward (3 of them in ICU) at 100, 10 days at 1,000: not 23 x 1,100
        "cost_inpatient": point(10 * 100, 10) + point(10 * 1000, 23),
        "cost_icu": point(3 * 2000, 10),
        # tocilizumab 2 x 300, infection 5,000, IVIG 40,000 x 0.25 x 0.2 y, malignancy 10,000
        "cost_adverse_events": point(600 + 5000 + 2000 + 10000, TREAT),
        "cost_relapse": point(7000, RELAPSE),
        "cost_follow_up": 4000 * disc(TREAT, FOLLOW_UP_END, R_COSTS),
        # active from referral to response (treatment to response included) and after relapse
        "cost_active_disease": 12000 * (disc(0, RESPONSE, R_COSTS) + disc(RELAPSE, END, R_COSTS)),
        # remission care is inside follow-up (the larger, 4,000) until follow-up ends
        "cost_remission_care": 1200 * disc(FOLLOW_UP_END, RELAPSE, R_COSTS),
    }


def expected_qalys(rate: float = R_EFFECTS) -> float:
    lived = (
        0.5 * disc(0, RESPONSE, rate)
        + 0.8 * disc(RESPONSE, RELAPSE, rate)
        + 0.5 * disc(RELAPSE, END, rate)
    )
    lost = (
        0.1 * disc(TREAT, TREAT + 14, rate)
        + 0.3 * disc(TREAT, TREAT + 3, rate)
        + 0.2 * disc(TREAT, TREAT + 30, rate)
    )
    return lived - lost


def test_every_cost_category_and_qalys_match_the_hand_calculation() -> None:
    p = simulate(make_scenario(pathway()), 0).patients
    assert len(p) > 10
    np.testing.assert_allclose(p["treatment_day"] - p["arrival_day"], TREAT, atol=1e-9)
    np.testing.assert_allclose(p["inpatient_days"], 23, atol=1e-9)
    np.testing.assert_allclose(p["icu_days"], 3, atol=1e-9)
    costs = expected_costs()
    for column, value in costs.items():
        np.testing.assert_allclose(p[column], value, rtol=1e-4, err_msg=column)
    np.testing.assert_allclose(p["cost_total"], sum(costs.values()), rtol=1e-4)
    categories = {c for c in p.columns if c.startswith("cost_")} - {
        "cost_total",
        "cost_undiscounted",
    }
    assert categories == set(costs)  # no category unaccounted for
    np.testing.assert_allclose(p["qaly_total"], expected_qalys(), rtol=1e-4)
    np.testing.assert_allclose(p["qaly_undiscounted"], expected_qalys(0.0), rtol=1e-4)
    # the QALYs at the cost rate differ by far more than the tolerance
    assert abs(expected_qalys(R_COSTS) - expected_qalys()) > 1e-2 * expected_qalys()


def test_two_inpatient_stages_are_charged_at_their_own_day_rates() -> None:
    data = pathway(economics={"discount_rate_costs": 0.0})
    data["arms"]["cart"]["stages"][1].pop("icu")
    p = simulate(make_scenario(data), 0).patients
    np.testing.assert_allclose(p["cost_inpatient"], 10 * 100 + 10 * 1000, rtol=1e-9)
    np.testing.assert_allclose(p["cost_icu"], 0.0)


def test_bed_days_of_patients_admitted_but_not_treated_are_costed() -> None:
    # the simulation ends on day 30: patients referred after day 12 are in a bed, untreated
    data = pathway(
        run={"arrival_window_days": 20, "horizon_days": 30},
        demand={"SLE": {"rate_per_year": 1000}},
    )
    data["arms"]["cart"]["stages"][1]["treatment_day"] = 8
    p = simulate(make_scenario(data), 0).patients
    untreated = p[p["treatment_day"].isna() & (p["inpatient_days"] > 0)]
    assert len(untreated) > 0
    expected = [point(100 * d, 10) for d in untreated["inpatient_days"]]
    np.testing.assert_allclose(untreated["cost_inpatient"], expected, rtol=1e-9)
    # adverse events of the treatment (all certain here) happen to treated patients only
    for event in ("serious_infection", "ivig", "secondary_malignancy"):
        assert not untreated[event].any()
        assert p.loc[p["treatment_day"].notna(), event].all()
    np.testing.assert_allclose(untreated["cost_adverse_events"], 0.0)


def test_utilities_follow_the_general_population_norm_for_age() -> None:
    norms = {"intercept": 0.95, "male": 0.02, "age": -0.0003, "age_squared": -0.00003}
    data = pathway(economics={"utility_age_norms": norms})
    data["demand"]["SLE"].update(female=0.5, age={"dist": "uniform", "low": 20, "high": 70})
    data["arms"]["cart"]["outcomes"]["SLE"]["response"] = 0.0
    data["arms"]["cart"]["adverse_events"] = {}
    data["arms"]["cart"]["economics"] = {}
    p = simulate(make_scenario(data), 0).patients
    assert 0 < p["female"].sum() < len(p)

    def norm(age: float, male: bool) -> float:
        return (
            norms["intercept"]
            + norms["male"] * male
            + norms["age"] * age
            + norms["age_squared"] * age**2
        )

    delta = math.log(1 + R_EFFECTS)
    columns = ["age", "female", "qaly_total", "qaly_undiscounted"]
    for age, female, qalys, raw in p[columns].itertuples(index=False):
        ratio = lambda t: norm(age + t, not female) / norm(age, not female)  # noqa: B023, E731
        value = quad(lambda t: 0.5 * ratio(t) * math.exp(-delta * t), 0, 10)[0]  # noqa: B023
        assert qalys == pytest.approx(value, rel=1e-9)
        assert raw == pytest.approx(quad(lambda t: 0.5 * ratio(t), 0, 10)[0], rel=1e-9)  # noqa: B023
    assert p["qaly_total"].max() < 0.5 * disc(0, END, R_EFFECTS) - 0.01  # the adjustment matters


def test_utility_losses_never_make_qalys_negative() -> None:
    data = pathway()
    arm = data["arms"]["cart"]
    arm["outcomes"]["SLE"].update(trm=1.0, trm_window_days=5)
    arm["economics"].update(episode_disutility=0.9, episode_disutility_days=365)
    arm["adverse_events"]["icu_disutility_per_day"] = 0.9
    data["disease_course"] = {"SLE": {"utility_active": 0.05, "utility_remission": 0.8}}
    data["mortality"] = {"female": {"a": 1.4e-5, "b": 0.1}, "male": {"a": 3.9e-5, "b": 0.09}}
    p = simulate(make_scenario(data), 0).patients
    assert p["trm_death"].all()
    assert (p["qaly_total"] >= 0).all() and (p["qaly_undiscounted"] >= 0).all()
    # losses stop at death: a patient dying early keeps the QALYs lived before treatment
    lived = 0.05 * (p["treatment_day"] - p["arrival_day"]) / DAYS
    later = pd.Series(p["death_day"] - p["treatment_day"])
    assert (p.loc[later > 0, "qaly_undiscounted"] <= lived[later > 0] + 1e-12).all()


def test_budget_spreads_the_undiscounted_spend_over_the_years_of_the_run() -> None:
    tables = simulate(make_scenario(pathway()), 0)
    p, budget = tables.patients, tables.budget.set_index("year")
    a = p["arrival_day"].to_numpy()
    years = len(budget)
    edge = years * DAYS  # the budget covers the years of the run only
    assert (a + 33 < edge).all() and (a + RELAPSE > edge).all()

    def per_year(amount: float, day: np.ndarray) -> np.ndarray:
        return np.bincount((day // DAYS).astype(int), minlength=years)[:years] * amount

    np.testing.assert_allclose(
        budget["cost_inpatient"], per_year(1000, a + 10) + per_year(10000, a + 23), rtol=1e-9
    )
    np.testing.assert_allclose(budget["cost_relapse"], 0.0)
    np.testing.assert_allclose(
        budget["cost_active_disease"].sum(), len(a) * 12000 * RESPONSE / DAYS
    )
    follow_up = 4000 * (np.minimum(a + FOLLOW_UP_END, edge) - (a + TREAT)) / DAYS
    np.testing.assert_allclose(budget["cost_follow_up"].sum(), follow_up.sum(), rtol=1e-9)
    remission = 1200 * np.clip(edge - (a + FOLLOW_UP_END), 0, None) / DAYS
    np.testing.assert_allclose(budget["cost_remission_care"].sum(), remission.sum(), rtol=1e-9)
    parts = budget.drop(columns=["patients_treated", "cost_total", "calendar_year", "arm"])
    parts = parts.drop(columns=[c for c in parts.columns if not c.startswith("cost_")])
    np.testing.assert_allclose(budget["cost_total"], parts.sum(axis=1), rtol=1e-12)
    assert budget["patients_treated"].sum() == len(a)


def test_a_subset_of_patients_keeps_each_patients_own_entries() -> None:
    course = Course(
        arrival=np.zeros(3),
        end=np.full(3, 100.0),
        lumps=[
            Lump("x", np.array([5.0, 6, 7, 8]), np.array([1.0, 2, 3, 4]), np.array([0, 2, 2, 1]))
        ],
    )
    sub = course.subset(np.array([False, True, True]))
    costs = evaluate(sub, Economics(discount_rate_costs=0.0, discount_rate_effects=0.0))
    np.testing.assert_allclose(costs["cost_x"], [4.0, 5.0])  # patient 1: 4; patient 2: 2 + 3


def test_the_analysis_ends_at_death_the_horizon_or_the_maximum_age() -> None:
    """Day each patient leaves the analysis (referral on day 100, 365.25 days a year)."""
    patients = {
        "arrival_day": np.full(3, 100.0),
        "age": np.array([40.0, 95.0, 40.0]),
        "death_day": np.array([np.nan, np.nan, 1000.0]),
    }
    lifetime = horizon_end(patients, Economics(horizon_years=None), max_age=100.0)
    np.testing.assert_allclose(lifetime, [100 + 60 * 365.25, 100 + 5 * 365.25, 1000.0])
    ten_years = horizon_end(patients, Economics(horizon_years=10), max_age=100.0)
    np.testing.assert_allclose(ten_years, [100 + 10 * 365.25, 100 + 5 * 365.25, 1000.0])
