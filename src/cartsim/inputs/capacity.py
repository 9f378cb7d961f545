"""Limited resources of a scenario: capacity (and its changes on dates), opening calendars with
public holidays, and quotas of starts per week or month. Times in days and hours, money in the
scenario's currency and price year.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from cartsim.inputs.fields import WEEKDAYS, Date, NonNegative, Strict, Weekday


def _hours(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


Hour = Annotated[float, Field(ge=0, le=24)]


MAX_CLOSED_DAYS = 365


class Holidays(Strict):
    """Public holidays of a country (and region) from the ``holidays`` package, as closed days."""

    country: Annotated[str, Field(min_length=2, max_length=3)] = Field(
        description="ISO 3166-1 country code, e.g. DE, GB, ES"
    )
    subdivision: str | None = Field(
        default=None, description="ISO 3166-2 region code within the country, e.g. BY, ENG"
    )

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        import holidays

        supported = holidays.list_supported_countries()
        if self.country not in supported:
            raise ValueError(f"unknown country {self.country!r} for public holidays")
        regions = supported[self.country]
        if self.subdivision is not None and self.subdivision not in regions:
            raise ValueError(
                f"unknown subdivision {self.subdivision!r} of {self.country} "
                f"(known: {', '.join(regions)})"
            )
        return self


class Calendar(Strict):
    """When a resource can start serving: weekdays, daily hours, closed dates and holidays."""

    open_days: list[Weekday] = Field(
        default=list(WEEKDAYS), description="weekdays it opens (mon..sun)"
    )
    hours: Annotated[tuple[Hour, Hour], BeforeValidator(_hours)] = Field(
        default=(0.0, 24.0),
        description="opening and closing hour of the day, [from, until], hours 0-24",
    )
    closed_dates: list[Date] = Field(default=[], description="dates it stays closed (YYYY-MM-DD)")
    holidays: Holidays | None = Field(
        default=None, description="public holidays it stays closed on (country and region)"
    )

    @model_validator(mode="after")
    def _sane(self) -> Calendar:
        if not self.open_days:
            raise ValueError("open_days must name at least one weekday")
        if self.hours[0] >= self.hours[1]:
            raise ValueError(f"hours must open before they close, got {list(self.hours)}")
        closed = sorted({d for d in self.closed_dates if WEEKDAYS[d.weekday()] in self.open_days})
        run_start = previous = closed[0] if closed else None
        for day in closed:
            if previous is not None and self._opens_between(previous, day):
                run_start = day
            previous = day
            if run_start is not None and (day - run_start).days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"closed_dates keep it closed for more than {MAX_CLOSED_DAYS} days in a row "
                    f"(from {run_start})"
                )
        return self

    def _opens_between(self, first: dt.date, last: dt.date) -> bool:
        """True when an open weekday falls strictly between ``first`` and ``last``."""
        gap = (last - first).days
        return gap > 7 or any(
            WEEKDAYS[(first + dt.timedelta(days=k)).weekday()] in self.open_days
            for k in range(1, gap)
        )


class CapacityChange(Strict):
    """From ``date`` on, the resource has ``capacity`` units (a second device from 2028, say)."""

    date: Date = Field(description="first day with the new capacity (YYYY-MM-DD)")
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        description="units from that date (count; 0 closes it)"
    )


class Quota(Strict):
    """At most ``starts`` services may start per calendar week or month (booked slots)."""

    starts: Annotated[int, Field(ge=1, le=100_000)] = Field(description="starts per period (count)")
    per: Literal["week", "month"] = Field(description="the calendar period: week or month")


class PriorityRule(Strict):
    """Patients who have one of ``diseases`` (any, when not given) and every one of ``flags``."""

    diseases: list[str] | None = Field(default=None, description="diseases matched (default: all)")
    flags: list[str] = Field(default=[], description="features a patient must all have to match")


class Resource(Strict):
    """A limited resource (apheresis chairs, manufacturing slots, beds, ICU beds)."""

    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | Literal["unlimited"] = Field(
        description="units that serve at once (count), or unlimited"
    )
    calendar: Calendar | Annotated[str, Field(min_length=1)] = Field(
        default=Calendar(),
        description="when service may start: a calendar, or the name of one in calendars",
    )
    capacity_changes: list[CapacityChange] = Field(
        default=[], description="capacity from given dates on, in date order"
    )
    quota: Quota | None = Field(default=None, description="at most N starts a week or month")
    priority: list[PriorityRule] = Field(
        default=[],
        description="queue order: patients matching the first rule are served first, then "
        "those matching the second, and so on, then everyone else; first come, first served "
        "within each (a patient in service is not interrupted)",
    )

    @model_validator(mode="after")
    def _changes(self) -> Resource:
        if self.capacity_changes and self.capacity == "unlimited":
            raise ValueError("capacity_changes need a limited capacity (a count)")
        dates = [c.date for c in self.capacity_changes]
        if dates != sorted(set(dates)):
            raise ValueError("capacity_changes must be in date order, one per date")
        return self

    description: str = Field(default="", description="what the resource is (text)")
    cost_per_unit_per_year: NonNegative = Field(
        default=0.0,
        description="fixed cost of one unit of capacity, money a year (for sweeps and the budget)",
    )
