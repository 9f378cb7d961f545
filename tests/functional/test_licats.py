"""LICATS (local immune effector cell-associated toxicity syndrome) lengthens the treated stay.

Grade 3 is a prolonged or new hospital stay (Hagen et al., Lancet Rheumatol 2025): its extra days
are added to the inpatient stage in which the treatment acts, so they hold a bed and are charged
at that stage's ward-day rate.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import make_scenario, scenario_dict

from cartsim.engine.adverse_events import treated_stay
from cartsim.runs.experiment import simulate

UNLIMITED = {"capacity": "unlimited"}
EXTRA = 6.0  # days of a grade-3 LICATS stay


def licats_scenario(any_: float, grade3: float, extra: float, booked: bool = False):
    data = scenario_dict(
        resources={"apheresis": UNLIMITED, "manufacturing": UNLIMITED, "ward_bed": UNLIMITED},
        economics={"horizon_years": 10, "discount_rate_costs": 0.0, "discount_rate_effects": 0.0},
        disease_course={"SLE": {"utility_active": 0.5, "utility_remission": 0.8}},
        arms={
            "cart": {
                "adverse_events": {
                    "licats": {
                        "conditional": True,
                        "any": any_,
                        "grade2_plus": 1.0,
                        "grade3_plus": grade3,
                    },
                    "licats_grade3_extra_days": extra,
                }
            }
        },
    )
    stages = data["arms"]["cart"]["stages"]
    stages[-1]["cost_per_day"] = 100.0  # EUR per ward day
    if booked:  # one stay, booked before lymphodepletion, the infusion 5 days into it
        stages[3:] = [
            {
                "name": "admission",
                "kind": "inpatient",
                "resource": "ward_bed",
                "duration": 19,
                "treatment_day": 5,
                "cost_per_day": 100.0,
            },
            {"name": "follow_up", "kind": "inpatient", "resource": "ward_bed", "duration": 2},
        ]
    return make_scenario(data)


def completed(tables):
    patients = tables.patients
    done = patients[patients["status"] == "completed"]
    assert len(done) > 10
    return done.set_index("patient_id")


@pytest.mark.parametrize("booked", [False, True])
def test_grade3_licats_adds_its_days_to_every_treated_stay(booked: bool) -> None:
    base = completed(simulate(licats_scenario(0.0, 0.0, EXTRA, booked), 0))
    tables = simulate(licats_scenario(1.0, 1.0, EXTRA, booked), 0)
    sure = completed(tables)
    common = base.index.intersection(sure.index)
    assert len(common) > 10
    np.testing.assert_allclose(
        sure.loc[common, "inpatient_days"] - base.loc[common, "inpatient_days"], EXTRA
    )
    # the days are ward days at the stay's rate: 100 EUR a day, undiscounted here
    np.testing.assert_allclose(
        sure.loc[common, "cost_inpatient"] - base.loc[common, "cost_inpatient"], 100.0 * EXTRA
    )


def test_grade3_licats_raises_bed_use() -> None:
    def bed_days(any_: float) -> float:
        res = simulate(licats_scenario(any_, 1.0, EXTRA), 0).resources
        return float(res.loc[res["resource"] == "ward_bed", "in_use"].sum())

    assert bed_days(1.0) > bed_days(0.0) * 1.2  # 14-day stays become 20-day stays


def test_lower_grades_and_zero_days_change_nothing() -> None:
    base = completed(simulate(licats_scenario(0.0, 0.0, EXTRA), 0))
    for scenario in (licats_scenario(1.0, 0.0, EXTRA), licats_scenario(1.0, 1.0, 0.0)):
        other = completed(simulate(scenario, 0))
        common = base.index.intersection(other.index)
        np.testing.assert_allclose(
            other.loc[common, "inpatient_days"], base.loc[common, "inpatient_days"]
        )


def test_the_treated_stay_is_the_booked_one_or_the_first_after_treatment() -> None:
    assert treated_stay(licats_scenario(0.0, 0.0, 0.0).arms["cart"]) == 5
    assert treated_stay(licats_scenario(0.0, 0.0, 0.0, booked=True).arms["cart"]) == 3
    data = scenario_dict()
    data["arms"]["cart"]["stages"] = data["arms"]["cart"]["stages"][:4]
    assert treated_stay(make_scenario(data).arms["cart"]) is None
