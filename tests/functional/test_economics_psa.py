"""Probabilistic analysis draws only possible worlds, counts the base case's patients and
reaches the decisive one-way ranges."""

from __future__ import annotations

import numpy as np
import pytest
from builders import ROOT, make_scenario, scenario_dict

from cartsim.inputs import loading
from cartsim.runs.analyses import arm_summary
from cartsim.runs.draws import parameter_draws
from cartsim.runs.experiment import simulate

H2H = ROOT / "scenarios" / "cart_vs_asct.yaml"
DISEASES = ("sle", "iim", "ssc")


@pytest.fixture(scope="module")
def draws():
    source = loading.load(H2H)
    return source, parameter_draws(source, list(range(1000)))


def test_remission_is_never_worse_than_active_disease_in_1000_draws(draws) -> None:
    source, table = draws
    for disease in DISEASES:
        assert (table[f"param_util_gain_remission_{disease}"] >= 0).all()
    # the built scenarios use the gain: remission utility >= active utility in every draw
    for iteration in range(0, 1000, 50):
        values = {
            k.removeprefix("param_"): float(v)
            for k, v in table.iloc[iteration].items()
            if k != "iteration"
        }
        scenario = source.build(values)
        for course in scenario.disease_course.values():
            assert course.remission_utility >= course.utility_active


def test_grade_risks_keep_their_order_in_1000_draws(draws) -> None:
    source, table = draws
    scenario = source.build()
    for arm in ("cart", "cart_commercial"):
        for risks in (
            scenario.arms[arm].adverse_events.crs,
            scenario.arms[arm].adverse_events.icans,
        ):
            assert risks.conditional
    crs = np.column_stack(
        [
            table["param_cart_crs_any"],
            table["param_cart_crs_grade2plus_given_any"],
            table["param_cart_crs_grade3plus_given_grade2"],
        ]
    )
    cumulative = np.cumprod(crs, axis=1)  # what the conditional grade risks give
    assert (np.diff(cumulative, axis=1) <= 0).all()
    assert ((crs >= 0) & (crs <= 1)).all()


def test_ssc_utilities_use_standard_errors(draws) -> None:
    _, table = draws
    for name in ("mild", "moderate_lung"):
        sd = table[f"param_util_ssc_{name}"].std()
        assert sd < 0.04  # SE = SD / sqrt(107) is about 0.03; the between-person SD was 0.25-0.30


def test_relapse_hazard_one_way_range_reaches_035_a_year() -> None:
    source = loading.load(H2H)
    low, high = source.parameters["cart_relapse_hazard"].sensitivity_range()
    assert low < 0.01 and high >= 0.35


def test_psa_summaries_count_only_patients_referred_after_the_warm_up() -> None:
    scenario = make_scenario(
        scenario_dict(
            run={"warmup_days": 150},
            economics={"horizon_years": 5},
            disease_course={
                "SLE": {
                    "utility_active": 0.5,
                    "utility_remission": 0.8,
                    "cost_active_per_year": 10000,
                    "cost_remission_per_year": 1000,
                }
            },
            arms={"cart": {"outcomes": {"SLE": {"response": 0.5}}}},
        )
    )
    p = simulate(scenario, 0, events=False).patients
    assert p["qaly_total"].std() > 0.01 and p["cost_total"].std() > 100
    settled = p[p["arrival_day"] >= 150]
    assert 0 < len(settled) < len(p)
    (row,) = arm_summary(scenario, 0, 0)
    np.testing.assert_allclose(row["cost"], settled["cost_total"].mean())
    np.testing.assert_allclose(row["qaly"], settled["qaly_total"].mean())
