"""Checks sized to fail on one-line mistakes: treatment-related mortality, the remission SMR
before response, the warm-up in KPIs, vein-to-vein from the first apheresis and service that
starts only while a resource is open. Statistical checks hold for any seed (bounds far out in
the tails)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario, scenario_dict

from cartsim.engine.resources import OpeningTimes
from cartsim.inputs.capacity import Calendar
from cartsim.runs.experiment import simulate

DAYS = 365.25
MORTALITY = {"female": {"a": 1.4e-5, "b": 0.1}, "male": {"a": 3.9e-5, "b": 0.092}}


def treated_course(outcome: dict, smr_active: float = 1.0, smr_remission: float = 1.0):
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 400}},
        resources={"apheresis": {"capacity": "unlimited"}},
        mortality=MORTALITY,
        economics={"horizon_years": 20},
        disease_course={
            "SLE": {
                "utility_active": 0.5,
                "utility_remission": 0.8,
                "smr_active": smr_active,
                "smr_remission": smr_remission,
            }
        },
    )
    data["resources"] = {}
    data["arms"] = {
        "cart": {
            "stages": [
                {"name": "prep", "kind": "delay", "duration": 5},
                {"name": "infusion", "kind": "treatment"},
            ],
            "outcomes": {"SLE": outcome},
        }
    }
    return simulate(make_scenario(data), 0, events=False).patients


def test_treatment_related_mortality_kills_within_its_window() -> None:
    p = treated_course({"response": 1.0, "trm": 1.0, "trm_window_days": 50})
    assert len(p) > 200
    assert p["trm_death"].all()
    assert (
        (p["death_day"] >= p["treatment_day"]) & (p["death_day"] <= p["treatment_day"] + 50)
    ).all()
    np.testing.assert_allclose(p["life_years"], (p["death_day"] - p["arrival_day"]) / DAYS)


def test_remission_smr_starts_at_response_not_at_treatment() -> None:
    # active disease with SMR 400 at age 40 (hazard about 0.4 a year) for a year before
    # response, then SMR 0.01: about a third die before response (expected > 100 of ~400);
    # with the remission SMR from treatment nearly nobody would
    p = treated_course({"response": 1.0, "response_days": DAYS}, 400.0, 0.01)
    n = len(p)
    before = (p["death_day"] < p["treatment_day"] + DAYS).sum()
    assert before > 0.15 * n, (before, n)
    after = (p["death_day"] >= p["treatment_day"] + DAYS) & (
        p["death_day"] < p["arrival_day"] + 10 * DAYS
    )
    assert after.sum() < 0.02 * n  # SMR 0.01 after response: hardly anyone dies


def test_kpis_count_only_patients_referred_after_the_warm_up() -> None:
    scenario = make_scenario(
        scenario_dict(
            run={"warmup_days": 120},
            economics={"horizon_years": 5},
            disease_course={"SLE": {"utility_active": 0.5, "utility_remission": 0.8}},
        )
    )
    tables = simulate(scenario, 0)
    p, m = tables.patients, tables.metrics
    settled = p[p["arrival_day"] >= 120]
    assert 0 < len(settled) < len(p)
    metric = m.set_index("metric")["value"]
    assert metric["referred"] == len(settled)
    assert metric["treated"] == settled["treatment_day"].notna().sum()
    np.testing.assert_allclose(metric["mean_cost_total"], settled["cost_total"].mean())


def test_vein_to_vein_runs_from_the_first_apheresis() -> None:
    data = scenario_dict(resources={"apheresis": {"capacity": "unlimited"}})
    data["arms"]["cart"]["stages"][2]["failure"] = {
        "probability": 0.5,
        "back_to": "apheresis",
        "max_attempts": 2,
    }
    tables = simulate(make_scenario(data), 0)
    e, p = tables.events, tables.patients.set_index("patient_id")
    starts = e[(e["stage"] == "apheresis") & (e["event"] == "start")]
    first = starts.groupby("patient_id")["time"].min()
    twice = starts.groupby("patient_id").size() > 1
    treated = p["treatment_day"].notna()
    assert (twice & treated.reindex(twice.index)).sum() > 0  # some were collected twice
    expected = (p["treatment_day"] - first.reindex(p.index))[treated]
    np.testing.assert_allclose(p.loc[treated, "vein_to_vein_days"], expected, atol=1e-9)


@pytest.mark.parametrize("hour", [16.0, 16.5, 23.9])
def test_no_service_starts_at_or_after_closing_time(hour: float) -> None:
    opening = OpeningTimes.from_calendar(
        Calendar(open_days=["mon", "tue", "wed", "thu", "fri"], hours=[8, 16]),
        dt.date(2026, 1, 5),  # a Monday
    )
    start = opening.next_start(hour / 24)
    assert start == pytest.approx(1 + 8 / 24)  # Tuesday 8:00
    assert opening.next_start(15.99 / 24) == pytest.approx(15.99 / 24)
    friday_close = opening.next_start(4 + 16 / 24)
    assert friday_close == pytest.approx(7 + 8 / 24)  # Monday after the weekend


def test_apheresis_starts_only_in_opening_hours() -> None:
    data = scenario_dict(
        resources={
            "apheresis": {"calendar": {"open_days": ["mon", "tue", "wed"], "hours": [8, 16]}}
        }
    )
    e = simulate(make_scenario(data), 0).events
    t = e[(e["resource"] == "apheresis") & (e["event"] == "start")]["time"].to_numpy()
    assert t.size > 20
    hour = (t % 1) * 24
    assert ((hour >= 8 - 1e-9) & (hour < 16)).all()
    weekday = pd.Series((np.floor(t).astype(int)) % 7)  # day 0 of SIMPLE's start date
    assert weekday.nunique() <= 3
