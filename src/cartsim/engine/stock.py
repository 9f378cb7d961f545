"""A stock of doses: a unit a stage takes comes back only when its replacement arrives.

An ``activity`` stage with ``restock_days`` takes one unit of its resource when it starts (a
dose of an off-the-shelf product from a stock of ``capacity`` doses kept for the centre). The
patient moves on after the stage's ``duration``; the unit returns ``restock_days`` after the
start, when the dose ordered to replace it arrives (one-for-one replenishment with a lead time:
the stock on hand is ``capacity`` minus the doses on order). Patients who find the stock empty
queue for the next dose to come back, first come, first served. The resource's ``start`` and
``end`` events bound the time a dose is on order, so its in-use series counts doses on order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from cartsim.engine.eventlog import EVENT_CODE
from cartsim.engine.resources import Slots

END = EVENT_CODE["end"]


def take_dose(
    env: simpy.Environment,
    slots: Slots,
    log: Callable[[tuple[Any, ...]], None],
    where: tuple[int, int, int],
    start: float,
    lead_days: float,
) -> None:
    """The unit taken at ``start`` (days) by patient, stage and resource code ``where``
    returns to ``slots`` ``lead_days`` later, and the resource's ``end`` is logged then."""
    patient, stage, code = where
    back = env.timeout(start + lead_days - env.now)
    back.callbacks.append(lambda _event: _returned(env, slots, log, patient, stage, code))


def _returned(
    env: simpy.Environment,
    slots: Slots,
    log: Callable[[tuple[Any, ...]], None],
    patient: int,
    stage: int,
    code: int,
) -> None:
    log((patient, stage, END, env.now, code))
    slots.release()
