"""Limited resources: SimPy resources with a capacity and a weekly opening calendar.

Seizing a unit is the only step that can make a patient wait, so it is the step to make cheap:
:class:`Slots` is a first-come-first-served resource on SimPy events with the semantics of
``simpy.Resource`` (a test holds the two to identical waits), but a seize that does not wait and
every release cost no event at all, where ``simpy.Resource`` schedules three. A resource with
``capacity: unlimited`` has no slots: seizing it never waits.
Opening calendars decide when service can *start* (apheresis Monday to Friday 8-16 h, say, closed
on public holidays); a patient granted a resource while it is closed holds their place until it
opens. Capacity can change on dates (a second device from 2028), and a quota limits how many
services may start per calendar week or month (booked manufacturing slots): a patient whose
period is full holds their unit until the next period opens. A resource with a ``priority``
serves its queue by rank (:class:`RankedSlots`). Time-weighted in-use and
queue-length series are derived from the event log (:mod:`cartsim.evaluate.derive`).
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

from cartsim.engine.cohort import Cohort
from cartsim.inputs.capacity import Calendar, PriorityRule, Quota, Resource
from cartsim.inputs.fields import WEEKDAYS

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
    def from_calendar(
        cls, calendar: Calendar, start_date: dt.date, horizon_days: float = 0.0
    ) -> OpeningTimes:
        closed = set(calendar.closed_dates)
        if calendar.holidays is not None:
            closed |= set(public_holidays(calendar, start_date, horizon_days))
        return cls(
            open_weekdays=frozenset(WEEKDAYS.index(d) for d in calendar.open_days),
            open_from=calendar.hours[0] / 24.0,
            open_until=calendar.hours[1] / 24.0,
            closed_days=frozenset((d - start_date).days for d in closed),
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


def public_holidays(calendar: Calendar, start_date: dt.date, horizon_days: float) -> list[dt.date]:
    """The calendar's public holidays from the start date to a year beyond the horizon."""
    import holidays

    assert calendar.holidays is not None
    last = start_date + dt.timedelta(days=math.ceil(horizon_days) + 366)
    found = holidays.country_holidays(
        calendar.holidays.country,
        subdiv=calendar.holidays.subdivision,
        years=range(start_date.year, last.year + 1),
    )
    return sorted(d for d in found if start_date <= d <= last)


class Slots:
    """``capacity`` identical units served first come, first served."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.in_use = 0
        self.waiting: deque[simpy.Event] = deque()

    def request(self, rank: int = 0) -> simpy.Event | None:
        """Seize a unit: None when granted at once, else an event that fires on the grant
        (``rank`` orders the queue of :class:`RankedSlots` only)."""
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
        """Hand the unit to the longest-waiting patient, or free it (when capacity has fallen
        below the units in use, the unit is retired instead)."""
        if self.waiting and self.in_use <= self.capacity:
            self.waiting.popleft().succeed()
        else:
            self.in_use -= 1

    def set_capacity(self, capacity: int) -> None:
        """From now on ``capacity`` units: new units serve the longest-waiting patients at once;
        fewer units take effect as units in use are released."""
        self.capacity = capacity
        while self.waiting and self.in_use < self.capacity:
            self.in_use += 1
            self.waiting.popleft().succeed()


class RankedSlots(Slots):
    """Slots whose queue is served by rank (0 first), first come, first served within a rank;
    a patient in service is never interrupted."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        super().__init__(env, capacity)
        self.queue: list[tuple[int, int, simpy.Event]] = []  # a heap: (rank, arrival, event)
        self.arrivals = 0

    def request(self, rank: int = 0) -> simpy.Event | None:
        if self.in_use < self.capacity:
            self.in_use += 1
            return None
        event = self.env.event()
        self.arrivals += 1
        heapq.heappush(self.queue, (rank, self.arrivals, event))
        return event

    def cancel(self, event: simpy.Event) -> None:
        self.queue = [entry for entry in self.queue if entry[2] is not event]
        heapq.heapify(self.queue)

    def release(self) -> None:
        if self.queue and self.in_use <= self.capacity:
            heapq.heappop(self.queue)[2].succeed()
        else:
            self.in_use -= 1

    def set_capacity(self, capacity: int) -> None:
        self.capacity = capacity
        while self.queue and self.in_use < self.capacity:
            self.in_use += 1
            heapq.heappop(self.queue)[2].succeed()


def patient_ranks(rules: list[PriorityRule], cohort: Cohort) -> list[int]:
    """Per patient, the index of the first priority rule they match (``len(rules)``: none)."""
    rank = np.full(cohort.size, len(rules), dtype=np.int64)
    for k in reversed(range(len(rules))):
        rule, match = rules[k], np.ones(cohort.size, dtype=bool)
        if rule.diseases is not None:
            match &= np.isin(cohort.disease, [cohort.diseases.index(d) for d in rule.diseases])
        for flag in rule.flags:
            match &= cohort.flags[flag]
        rank[match] = k
    return rank.tolist()


class QuotaBook:
    """How many services started in each calendar week or month (day 0 is ``start_date``)."""

    def __init__(self, quota: Quota, start_date: dt.date) -> None:
        self.quota = quota
        self.start_date = start_date
        self.used: dict[int, int] = {}

    def period(self, day: int) -> int:
        """The week (from Monday) or month index of simulation day ``day``."""
        date = self.start_date + dt.timedelta(days=day)
        if self.quota.per == "week":
            return (date - dt.timedelta(days=date.weekday()) - dt.date(1970, 1, 5)).days // 7
        return date.year * 12 + date.month - 1

    def next_period_day(self, day: int) -> int:
        """The first simulation day of the period after the one holding ``day``."""
        date = self.start_date + dt.timedelta(days=day)
        if self.quota.per == "week":
            first = date + dt.timedelta(days=7 - date.weekday())
        else:
            first = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
        return (first - self.start_date).days

    def book(self, day: int) -> bool:
        """Take one start in the period of ``day``, if any is left."""
        period = self.period(day)
        if self.used.get(period, 0) >= self.quota.starts:
            return False
        self.used[period] = self.used.get(period, 0) + 1
        return True


class Pool:
    """One named resource in one simulation: a SimPy resource (or none), its calendar, its
    capacity changes and its quota."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Resource,
        start_date: dt.date,
        calendars: dict[str, Calendar] | None = None,
        horizon_days: float = 0.0,
    ) -> None:
        self.name = name
        self.capacity: float = math.inf if spec.capacity == "unlimited" else spec.capacity
        kind = RankedSlots if spec.priority else Slots
        self.slots: Slots | None = (
            None if spec.capacity == "unlimited" else kind(env, spec.capacity)
        )
        self.rules = spec.priority
        self.rank: list[int] | None = None  # per patient, set with the cohort (patient_ranks)
        calendar = spec.calendar
        if isinstance(calendar, str):
            calendar = (calendars or {})[calendar]
        self.opening = OpeningTimes.from_calendar(calendar, start_date, horizon_days)
        self.quota = QuotaBook(spec.quota, start_date) if spec.quota is not None else None
        self.always_open = self.opening.always_open and self.quota is None
        self.changes = [((c.date - start_date).days, c.capacity) for c in spec.capacity_changes]
        if self.slots is not None:
            for day, capacity in self.changes:
                env.timeout(day).callbacks.append(functools.partial(_change, self.slots, capacity))

    def next_start(self, t: float) -> float:
        """The earliest time >= ``t`` (days) at which a service may start, booking a quota
        place when the resource has a quota."""
        start = self.opening.next_start(t)
        if self.quota is None:
            return start
        while not self.quota.book(math.floor(start)):
            start = self.opening.next_start(float(self.quota.next_period_day(math.floor(start))))
        return start

    def daily_capacity(self, days: int) -> float | np.ndarray:
        """Capacity on each day (an array when it changes during the run, else one number)."""
        if not self.changes:
            return self.capacity
        out = np.full(days, self.capacity, dtype=float)
        for day, capacity in self.changes:
            out[min(day, days) :] = capacity
        return out


def _change(slots: Slots, capacity: int, _event: simpy.Event) -> None:
    slots.set_capacity(capacity)


def make_pools(
    env: simpy.Environment,
    resources: dict[str, Resource],
    start_date: dt.date,
    calendars: dict[str, Calendar] | None = None,
    horizon_days: float = 0.0,
    cohort: Cohort | None = None,
) -> dict[str, Pool]:
    """One :class:`Pool` per resource of the scenario (with ``cohort``: each patient's rank in
    the queues of the resources with a priority)."""
    pools = {
        name: Pool(env, name, spec, start_date, calendars, horizon_days)
        for name, spec in resources.items()
    }
    for pool in pools.values():
        if pool.rules and cohort is not None:
            pool.rank = patient_ranks(pool.rules, cohort)
    return pools
