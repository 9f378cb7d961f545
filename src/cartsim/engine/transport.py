"""Courier legs between sites: when a shipment is collected.

A shipment ready by the cut-off hour of a dispatch day is collected at that hour the same day;
one ready later waits for the cut-off of the next dispatch day (:class:`cartsim.inputs.stages.
Transport`). Times in days from day 0 (``start_date``), hours as fractions of a day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from cartsim.inputs.fields import WEEKDAYS
from cartsim.inputs.stages import Transport


@dataclass(frozen=True)
class Dispatch:
    """The courier's collections: on ``weekdays`` (0 Monday) at ``cut_off`` (fraction of day)."""

    weekdays: frozenset[int]
    cut_off: float
    start_weekday: int  # weekday of day 0

    @classmethod
    def of(cls, leg: Transport, start_date: dt.date) -> Dispatch:
        return cls(
            weekdays=frozenset(WEEKDAYS.index(d) for d in leg.dispatch_days),
            cut_off=leg.cut_off_hour / 24.0,
            start_weekday=start_date.weekday(),
        )

    def collection(self, t: float) -> float:
        """The time (days) a shipment ready at ``t`` is collected."""
        day = math.floor(t)
        for _ in range(8):  # some weekday in the next eight days is a dispatch day
            if (day + self.start_weekday) % 7 in self.weekdays and t <= day + self.cut_off:
                return day + self.cut_off
            day += 1
        raise AssertionError("a dispatch calendar has at least one weekday")
