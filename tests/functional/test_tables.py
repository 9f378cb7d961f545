"""The tables of a run: columns in front, calendar years of the budget, treatment-stage costs."""

from __future__ import annotations

import numpy as np
from builders import scenario_dict

from cartsim.inputs.loading import validate
from cartsim.runs.experiment import simulate


def costed_scenario():
    data = scenario_dict(
        resources={},
        disease_course={"SLE": {"utility_active": 0.5, "utility_remission": 0.8}},
        economics={"horizon_years": 3},
    )
    data["run"]["start_date"] = "2027-03-01"
    data["arms"] = {
        "cart": {
            "stages": [
                {"name": "wait", "kind": "delay", "duration": 10},
                {"name": "infusion", "kind": "treatment", "costs": {"product": 1000}},
                {"name": "recovery", "kind": "delay", "duration": 5},  # completion logs here
            ]
        }
    }
    return validate(data, "test")


def test_tables_start_with_replication_and_arm() -> None:
    tables = simulate(costed_scenario(), 3)
    for name in ("events", "patients", "budget", "metrics"):
        frame = getattr(tables, name)
        assert list(frame.columns[:2]) == ["replication", "arm"], name
        assert (frame["replication"] == 3).all() and (frame["arm"] == "cart").all(), name


def test_budget_years_are_calendar_years_of_the_start_date() -> None:
    budget = simulate(costed_scenario(), 0).budget
    years = int(np.ceil(500 / 365.25))
    assert budget["year"].tolist() == list(range(years))
    assert budget["calendar_year"].tolist() == [2027 + y for y in range(years)]
    assert list(budget.columns[:5]) == [
        "replication",
        "arm",
        "year",
        "calendar_year",
        "patients_treated",
    ]


def test_a_treatment_stage_costs_what_it_says_once_per_patient() -> None:
    patients = simulate(costed_scenario(), 0).patients
    treated = patients["treatment_day"].notna()
    assert treated.sum() > 10
    # undiscounted 1000 at treatment, discounted at 3% a year over at most 500 days
    cost = patients.loc[treated, "cost_product"]
    assert ((cost > 1000 * 1.035 ** (-500 / 365.25)) & (cost <= 1000)).all()
    assert (patients.loc[~treated, "cost_product"] == 0).all()


def test_without_detail_no_event_log_resource_series_or_budget_is_kept() -> None:
    """``detail=False`` keeps the patients and KPI tables only, even when events are asked for."""
    scenario = costed_scenario()
    full = simulate(scenario, 0, events=True, detail=True)
    lean = simulate(scenario, 0, events=True, detail=False)
    assert len(full.events) and len(full.resources) and len(full.budget)
    assert lean.events.empty and lean.resources.empty and lean.budget.empty
    assert lean.patients.equals(full.patients)
