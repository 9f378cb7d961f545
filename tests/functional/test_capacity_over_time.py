"""Capacity that changes on a date, monthly quotas and public-holiday calendars: exact service
start times read off the event log."""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
import pytest
from builders import make_scenario

from cartsim.inputs.errors import ScenarioError
from cartsim.runs.experiment import simulate

START = dt.date(2026, 1, 5)  # the default start date: a Monday
UNLIMITED = {"capacity": "unlimited"}


def manufacturing_starts(**manufacturing) -> pd.DataFrame:
    """Start events of the manufacturing stage in a busy one-replication run."""
    scenario = make_scenario(
        demand={"SLE": {"rate_per_year": 120}},
        resources={"apheresis": UNLIMITED, "manufacturing": manufacturing, "ward_bed": UNLIMITED},
    )
    events = simulate(scenario, 0).events
    mine = events[(events["stage"] == "manufacturing") & (events["event"] == "start")]
    return mine.sort_values("time")


def in_service(events: pd.DataFrame, t: float, duration: float = 13.0) -> int:
    """Manufacturing runs in progress just after time ``t`` (fixed 13-day runs)."""
    return int(((events["time"] <= t) & (events["time"] + duration > t)).sum())


def test_capacity_rises_on_its_date_and_the_queue_is_served_at_once() -> None:
    change = 200  # day of the change: 2026-07-24
    starts = manufacturing_starts(
        capacity=1,
        capacity_changes=[{"date": (START + dt.timedelta(days=change)).isoformat(), "capacity": 3}],
    )
    before = starts[starts["time"] < change]
    assert max(in_service(before, t) for t in before["time"]) == 1
    after = starts[starts["time"] >= change]
    # with a queue waiting, the two new units start two waiting runs exactly on the day
    assert (after["time"] == change).sum() == 2
    assert max(in_service(starts, t) for t in after["time"]) == 3


def test_capacity_falls_only_as_units_in_use_are_released() -> None:
    change = 150
    starts = manufacturing_starts(
        capacity=3,
        capacity_changes=[{"date": (START + dt.timedelta(days=change)).isoformat(), "capacity": 1}],
    )
    later = starts[starts["time"] >= change + 13.0]  # every unit of before has been released
    assert len(later) > 5
    assert max(in_service(starts, t) for t in later["time"]) == 1


def test_a_monthly_quota_caps_starts_and_defers_to_the_first_day_of_next_month() -> None:
    starts = manufacturing_starts(capacity=10, quota={"starts": 2, "per": "month"})
    dates = [START + dt.timedelta(days=float(t)) for t in starts["time"]]
    months = pd.Series([(d.year, d.month) for d in dates])
    assert months.value_counts().max() == 2
    # demand (10 a month) exceeds the quota: every month's first start is on its first day,
    # at 00:00, except in the first month, which starts with the first referral
    first = starts.assign(month=list(months)).groupby("month")["time"].min().iloc[1:]
    for (year, month), t in first.items():
        assert t == (dt.date(year, month, 1) - START).days


def test_a_national_holiday_calendar_keeps_the_resource_closed_on_holidays() -> None:
    calendar = {
        "open_days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": [8, 16],
        "holidays": {"country": "DE", "subdivision": "BY"},
    }
    starts = manufacturing_starts(capacity=1, calendar=calendar)
    days = np.floor(starts["time"].to_numpy()).astype(int)
    closed = {
        (d - START).days for d in holidays.country_holidays("DE", subdiv="BY", years=[2026, 2027])
    }
    assert not set(days) & closed
    assert ((starts["time"] % 1.0) >= 8 / 24 - 1e-9).all()


def expected_start(t: float, closed: set[int]) -> float:
    """First time >= t on a weekday that is not a holiday, between 08:00 and 16:00."""
    day = int(np.floor(t))
    while True:
        weekday = (START + dt.timedelta(days=day)).weekday()
        if weekday < 5 and day not in closed and t < day + 16 / 24:
            return max(t, day + 8 / 24)
        day, t = day + 1, float(day + 1)


def test_every_start_on_a_holiday_calendar_is_the_first_open_time_after_arrival() -> None:
    calendar = {
        "open_days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": [8, 16],
        "holidays": {"country": "DE", "subdivision": "BY"},
    }
    scenario = make_scenario(
        demand={"SLE": {"rate_per_year": 200}},
        resources={"apheresis": {"capacity": "unlimited", "calendar": calendar}},
    )
    events = simulate(scenario, 0).events
    mine = events[events["stage"] == "apheresis"].pivot_table(
        index="patient_id", columns="event", values="time", aggfunc="min", observed=True
    )
    closed = {
        (d - START).days for d in holidays.country_holidays("DE", subdiv="BY", years=[2026, 2027])
    }
    expected = [expected_start(t, closed) for t in mine["queue"]]
    np.testing.assert_allclose(mine["start"].to_numpy(), expected, rtol=0, atol=1e-9)
    on_holiday = [t for t in mine["queue"] if int(np.floor(t)) in closed]
    assert on_holiday  # some referrals did arrive on a holiday and waited


def test_a_calendar_defined_once_is_used_by_name_and_unknown_names_are_refused() -> None:
    weekdays = {"open_days": ["mon", "tue", "wed", "thu", "fri"]}
    scenario = make_scenario(
        calendars={"weekdays": weekdays},
        resources={"apheresis": {"capacity": 1, "calendar": "weekdays"}},
    )
    starts = simulate(scenario, 0).events
    starts = starts[(starts["stage"] == "apheresis") & (starts["event"] == "start")]
    weekday = [(START + dt.timedelta(days=float(t))).weekday() for t in starts["time"]]
    assert max(weekday) <= 4
    with pytest.raises(ScenarioError, match="unknown calendar 'weekend'"):
        make_scenario(resources={"apheresis": {"capacity": 1, "calendar": "weekend"}})


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"capacity": "unlimited", "capacity_changes": [{"date": "2027-01-01", "capacity": 2}]},
         "need a limited capacity"),
        ({"capacity": 1, "capacity_changes": [{"date": "2025-01-01", "capacity": 2}]},
         "not after the start date"),
        ({"capacity": 1, "calendar": {"holidays": {"country": "XX"}}}, "unknown country"),
    ],
)  # fmt: skip
def test_impossible_capacity_settings_are_refused(resource: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        make_scenario(resources={"manufacturing": resource})
