"""Measures per year of referral and calendar year, and fixed capacity costs in the budget."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario

from cartsim.decide.stats import mean_ci
from cartsim.evaluate.kpis import period_metrics
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.runs.studies import period_kpis, with_capacity_costs

START = dt.date(2026, 7, 1)


def patients() -> pd.DataFrame:
    """Replication 0 refers in years 1 and 2; replication 1 only in year 2."""
    rows = [
        # replication, arrival day, treatment day, vein-to-vein days, status
        (0, 10.0, 40.0, 30.0, "completed"),  # in the warm-up: not counted
        (0, 100.0, 130.0, 20.0, "completed"),  # year 1, calendar 2026 (9 October)
        (0, 200.0, np.nan, np.nan, "died_waiting"),  # year 1, calendar 2027 (17 January)
        (0, 400.0, 450.0, 40.0, "completed"),  # year 2
        (1, 500.0, 560.0, 50.0, "completed"),  # year 2
        (1, 600.0, np.nan, np.nan, "dropped_out"),  # year 2
    ]
    frame = pd.DataFrame(
        rows, columns=["replication", "arrival_day", "treatment_day", "vein_to_vein_days", "status"]
    )
    frame["arm"] = "cart"
    frame["referral_to_treatment_days"] = frame["treatment_day"] - frame["arrival_day"]
    return frame


def value(table: pd.DataFrame, kind: str, period: int, metric: str, rep: int) -> float:
    mine = table[
        (table["period_kind"] == kind)
        & (table["period"] == period)
        & (table["metric"] == metric)
        & (table["replication"] == rep)
    ]
    assert len(mine) == 1
    return float(mine["value"].iloc[0])


def test_patients_count_in_the_year_they_were_referred_in() -> None:
    table = period_metrics(patients(), warmup_days=50, start_date=START)
    assert value(table, "referral_year", 1, "referred", 0) == 2  # the warm-up patient left out
    assert value(table, "referral_year", 1, "treated", 0) == 1
    assert value(table, "referral_year", 1, "died_waiting", 0) == 1
    assert value(table, "referral_year", 2, "referred", 1) == 2
    assert value(table, "referral_year", 2, "dropped_out", 1) == 1
    assert value(table, "referral_year", 2, "mean_vein_to_vein_days", 1) == 50
    # calendar years follow the start date: day 100 is in 2026, day 200 in 2027
    assert value(table, "calendar_year", 2026, "referred", 0) == 1
    assert value(table, "calendar_year", 2027, "referred", 0) == 2


def test_a_year_without_referrals_counts_zero_and_has_no_times() -> None:
    table = period_metrics(patients(), warmup_days=50, start_date=START)
    assert value(table, "referral_year", 1, "referred", 1) == 0
    assert value(table, "referral_year", 1, "treated", 1) == 0
    assert np.isnan(value(table, "referral_year", 1, "p90_vein_to_vein_days", 1))


def test_referral_years_are_years_of_the_run() -> None:
    frame = patients().iloc[:1].assign(arrival_day=[DAYS_PER_YEAR - 0.01])
    table = period_metrics(frame, warmup_days=0, start_date=START, kinds=("referral_year",))
    assert set(table["period"]) == {1}
    frame["arrival_day"] = DAYS_PER_YEAR
    table = period_metrics(frame, warmup_days=0, start_date=START, kinds=("referral_year",))
    assert set(table["period"]) == {2}


def test_per_year_kpis_are_replication_means_with_t_intervals() -> None:
    table = period_kpis(period_metrics(patients(), warmup_days=50, start_date=START))
    row = table[
        (table["period_kind"] == "referral_year")
        & (table["period"] == 2)
        & (table["metric"] == "referred")
    ].iloc[0]
    mean, low, high = mean_ci([1.0, 2.0])
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
    assert row["n_replications"] == 2


def test_fixed_capacity_costs_join_the_budget_per_calendar_year() -> None:
    scenario = make_scenario(
        resources={
            "manufacturing": {"capacity": 2, "cost_per_unit_per_year": 50_000},
            "ward_bed": {"capacity": 3, "cost_per_unit_per_year": 10_000},
        },
        run={"horizon_days": 1.5 * DAYS_PER_YEAR, "start_date": "2027-01-04"},
    )
    budget = pd.DataFrame(
        {
            "replication": [0, 0],
            "arm": ["cart", "cart"],
            "year": [0, 1],
            "calendar_year": [2027, 2028],
            "patients_treated": [3, 4],
            "cost_product": [10.0, 20.0],
            "cost_total": [10.0, 20.0],
        }
    )
    out = with_capacity_costs(budget, scenario)
    fixed = out[out["arm"] == "service"].set_index("year")
    assert fixed["cost_fixed_capacity"].tolist() == pytest.approx([130_000, 65_000])  # half year
    assert fixed["calendar_year"].tolist() == [2027, 2028]
    assert (fixed["cost_total"] == fixed["cost_fixed_capacity"]).all()
    assert (out.loc[out["arm"] == "cart", "cost_fixed_capacity"] == 0).all()
    assert list(out.columns)[-1] == "cost_total"


def test_no_capacity_cost_leaves_the_budget_as_it_is() -> None:
    budget = pd.DataFrame({"replication": [0], "arm": ["cart"], "year": [0], "cost_total": [1.0]})
    assert with_capacity_costs(budget, make_scenario()) is budget
