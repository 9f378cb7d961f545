"""Limited resources: SimPy resources with a capacity and a weekly opening calendar.

Seizing a unit is the only step that can make a patient wait, so it is the step to make cheap:
:class:`Slots` is a first-come-first-served resource on SimPy events with the semantics of
``simpy.Resource`` (a test holds the two to identical waits), but a seize that does not wait and
every release cost no event at all, where ``simpy.Resource`` schedules three. A resource with
``capacity: unlimited`` has no slots: seizing it never waits.
Opening calendars decide when service can *start* (apheresis Monday to Friday 8-16 h, say); a
patient granted a resource while it is closed holds their place until it opens. Time-weighted
in-use and queue-length series are derived from the event log (:mod:`cartsim.evaluate.derive`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass

import simpy

from cartsim.inputs.scenario import WEEKDAYS, Calendar, Resource

MAX_CLOSED_RUN_DAYS = 3660


@dataclass(frozen=True)
class OpeningTimes:
    """A calendar in simulation days: day 0 is ``start_date``."""

    open_weekdays: frozenset[int]
    open_from: float  # fraction of the day
    open_until: float
    closed_days: frozenset[int]
    start_weekday: int

    @classmethod
    def from_calendar(cls, calendar: Calendar, start_date: dt.date) -> OpeningTimes:
        return cls(
            open_weekdays=frozenset(WEEKDAYS.index(d) for d in calendar.open_days),
            open_from=calendar.hours[0] / 24.0,
            open_until=calendar.hours[1] / 24.0,
            closed_days=frozenset((d - start_date).days for d in calendar.closed_dates),
            start_weekday=start_date.weekday(),
        )

    @property
    def always_open(self) -> bool:
        return (
            len(self.open_weekdays) == 7
            and self.open_from == 0.0
            and self.open_until == 1.0
            and not self.closed_days
        )

    def is_open_day(self, day: int) -> bool:
        return (day + self.start_weekday) % 7 in self.open_weekdays and day not in self.closed_days

    def next_start(self, t: float) -> float:
        """The earliest time >= ``t`` (days) at which service may start."""
        if self.always_open:
            return t
        day = math.floor(t)
        for _ in range(MAX_CLOSED_RUN_DAYS):
            if self.is_open_day(day) and t < day + self.open_until:
                return max(t, day + self.open_from)
            day += 1
            t = float(day)
        raise ValueError("the calendar stays closed for more than ten years")


class Slots:
    """``capacity`` identical units served first come, first served."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.in_use = 0
        self.waiting: deque[simpy.Event] = deque()

    def request(self) -> simpy.Event | None:
        """Seize a unit: None when granted at once, else an event that fires on the grant."""
        if self.in_use < self.capacity:
            self.in_use += 1
            return None
        event = self.env.event()
        self.waiting.append(event)
        return event

    def cancel(self, event: simpy.Event) -> None:
        """Leave the queue without service."""
        self.waiting.remove(event)

    def release(self) -> None:
        """Hand the unit to the longest-waiting patient, or free it."""
        if self.waiting:
            self.waiting.popleft().succeed()
        else:
            self.in_use -= 1


class Pool:
    """One named resource in one simulation: a SimPy resource (or none) and its calendar."""

    def __init__(
        self, env: simpy.Environment, name: str, spec: Resource, start_date: dt.date
    ) -> None:
        self.name = name
        self.capacity: float = math.inf if spec.capacity == "unlimited" else spec.capacity
        self.slots: Slots | None = (
            None if spec.capacity == "unlimited" else Slots(env, spec.capacity)
        )
        self.opening = OpeningTimes.from_calendar(spec.calendar, start_date)
        self.always_open = self.opening.always_open


def make_pools(
    env: simpy.Environment, resources: dict[str, Resource], start_date: dt.date
) -> dict[str, Pool]:
    """One :class:`Pool` per resource of the scenario."""
    return {name: Pool(env, name, spec, start_date) for name, spec in resources.items()}
