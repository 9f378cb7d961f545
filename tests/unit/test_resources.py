"""Opening calendars, and the event-free Slots against ``simpy.Resource``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator

import numpy as np
import pytest
import simpy

from cartsim.engine.resources import OpeningTimes, Slots
from cartsim.inputs.capacity import Calendar

MONDAY = dt.date(2026, 1, 5)


def weekdays_8_to_16(closed: list[dt.date] | None = None) -> OpeningTimes:
    calendar = Calendar(
        open_days=["mon", "tue", "wed", "thu", "fri"], hours=(8, 16), closed_dates=closed or []
    )
    return OpeningTimes.from_calendar(calendar, MONDAY)


def test_open_time_is_kept() -> None:
    assert weekdays_8_to_16().next_start(0 + 9 / 24) == pytest.approx(9 / 24)


def test_before_opening_waits_for_opening() -> None:
    assert weekdays_8_to_16().next_start(1 + 2 / 24) == pytest.approx(1 + 8 / 24)


def test_after_closing_on_friday_waits_for_monday() -> None:
    friday_evening = 4 + 17 / 24
    assert weekdays_8_to_16().next_start(friday_evening) == pytest.approx(7 + 8 / 24)


def test_closed_date_is_skipped() -> None:
    opening = weekdays_8_to_16(closed=[dt.date(2026, 1, 6)])  # Tuesday
    assert opening.next_start(0 + 17 / 24) == pytest.approx(2 + 8 / 24)


def test_always_open_calendar_never_delays() -> None:
    opening = OpeningTimes.from_calendar(Calendar(), MONDAY)
    assert opening.always_open
    assert opening.next_start(3.1415) == 3.1415


def _queue_run(
    make: Callable[[simpy.Environment], object], seize: Callable[..., Generator]
) -> list[float]:
    """Waits of 2,000 customers of a 3-server queue with random arrivals and service."""
    rng = np.random.default_rng(5)
    gaps, services = rng.exponential(1.0, 2000), rng.exponential(2.5, 2000)
    env = simpy.Environment()
    resource = make(env)
    waits: list[float] = []

    def source() -> Generator:
        for gap, service in zip(gaps, services, strict=True):
            yield env.timeout(gap)
            env.process(seize(env, resource, service, waits))

    env.process(source())
    env.run()
    return waits


def _with_simpy(env: simpy.Environment, res: simpy.Resource, service: float, waits: list[float]):
    arrived = env.now
    with res.request() as req:
        yield req
        waits.append(env.now - arrived)
        yield env.timeout(service)


def _with_slots(env: simpy.Environment, slots: Slots, service: float, waits: list[float]):
    arrived = env.now
    grant = slots.request()
    if grant is not None:
        yield grant
    waits.append(env.now - arrived)
    yield env.timeout(service)
    slots.release()


def test_slots_give_the_same_waits_as_simpy_resource() -> None:
    reference = _queue_run(lambda env: simpy.Resource(env, 3), _with_simpy)
    fast = _queue_run(lambda env: Slots(env, 3), _with_slots)
    assert max(reference) > 1.0  # the queue did form
    np.testing.assert_allclose(sorted(fast), sorted(reference), atol=1e-9)
    np.testing.assert_allclose(fast, reference, atol=1e-9)


def test_calendar_counts_weekdays_from_the_start_date() -> None:
    wednesday = dt.date(2026, 1, 7)
    calendar = Calendar(open_days=["mon", "tue", "wed", "thu", "fri"], hours=(8, 16))
    opening = OpeningTimes.from_calendar(calendar, wednesday)
    # day 0 is a Wednesday: days 3 and 4 are the weekend, day 5 the next Monday
    assert [opening.is_open_day(d) for d in range(7)] == [
        True,
        True,
        True,
        False,
        False,
        True,
        True,
    ]
    assert opening.next_start(2 + 17 / 24) == pytest.approx(5 + 8 / 24)
