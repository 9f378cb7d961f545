"""The stage engine: one patient's journey through an arm's stages, written to the event log.

Only steps that compete for a limited resource are SimPy events. Delays, treatment and seizes of
unlimited resources advance a per-patient time cursor without touching the event queue; the
patient yields to SimPy just before it needs a limited resource. Durations, failures and the time
a waiting patient would die or drop out are pre-sampled per patient (and visit), so the journey
draws no random numbers. With sites, each site has its own plans (its resources, the transport
legs it takes) and a patient follows the plans of their site.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from cartsim.engine.eventlog import EVENT_CODE, NO_CODE, EventLog
from cartsim.engine.resources import Pool
from cartsim.engine.stock import take_dose
from cartsim.engine.transport import Dispatch
from cartsim.inputs.stages import Failure, Treatment

QUEUE, LEAVE, START, END = (EVENT_CODE[e] for e in ("queue", "leave_queue", "start", "end"))
TREATMENT, COMPLETED, FAILED = (EVENT_CODE[e] for e in ("treatment", "completed", "failed"))


TREAT, UNTIMED, SEIZE, SKIP = 0, 1, 2, 3
Journey = Generator[simpy.Event, None, None]


class Resume:
    """The callback that resumes a journey when the event it yielded fires.

    A small object rather than a closure: a closure that appends itself to the event's callbacks
    refers to itself, so every finished journey would leave a reference cycle for the garbage
    collector; this object refers only to the generator.
    """

    __slots__ = ("journey",)

    def __init__(self, journey: Journey) -> None:
        self.journey = journey

    def __call__(self, _event: simpy.Event | None) -> None:
        try:
            target = next(self.journey)
        except StopIteration:
            return
        target.callbacks.append(self)


def start(journey: Journey) -> None:
    """Run a generator on SimPy events from now on, like ``env.process`` but lighter.

    The generator runs at once up to its first ``yield`` (no initialisation event) and is resumed
    by a callback on each event it yields; no Process object or process event is made. Journeys
    never wait for each other, so they need nothing else that a SimPy process offers.
    """
    Resume(journey)(None)


@dataclass
class StagePlan:
    """A stage with its per-patient draws: ``durations[visit][patient]`` in days.

    Draws are Python lists, not arrays: the journey reads single values, which is several times
    faster from a list than from a numpy array.
    """

    kind: type
    pool: Pool | None
    resource_code: int
    durations: list[list[float]]
    failure: Failure | None = None
    back_to: int = 0
    failure_draws: list[list[float]] | None = None  # uniforms [visit][patient]
    icu_pool: Pool | None = None
    icu_code: int = NO_CODE
    icu_days: list[float] | None = None  # per patient; NaN when not escalated
    icu_onset: float = 0.0  # days after the treatment (or admission) ICU transfer starts
    treat_after: float | None = None  # the arm's treatment acts this many days into the stay
    restock_days: list[float] | None = None  # per patient: a dose taken returns this much later
    dispatch: Dispatch | None = None  # a transport leg's collections
    skip: bool = False  # a transport leg between two resources at the same place
    hold_until: int | None = None  # the stage whose end releases the unit (a booking)

    @property
    def mode(self) -> int:
        """How the engine runs the stage: treatment, untimed (no SimPy event), a seize, or
        skipped (a transport leg that does not apply)."""
        if self.skip:
            return SKIP
        if self.kind is Treatment:
            return TREAT
        needs_simpy = self.pool is not None and (
            self.pool.slots is not None
            or self.icu_days is not None
            or self.treat_after is not None
            or self.hold_until is not None
        )
        return SEIZE if needs_simpy else UNTIMED


@dataclass
class PatientPlan:
    """Per-patient exits while waiting: time of death or dropout (days) and which it is."""

    exit_day: np.ndarray  # inf when the patient never leaves while waiting
    exit_event: np.ndarray  # event code: died_waiting or dropped_out


class Pathway:
    """Runs journeys through one arm in one SimPy environment: patient ``p`` follows
    ``stages[site_of[p]]`` (one list of plans per site; a single list without sites)."""

    def __init__(
        self,
        env: simpy.Environment,
        stages: list[list[StagePlan]],
        patients: PatientPlan,
        log: EventLog,
        site_of: list[int] | None = None,
    ) -> None:
        self.env = env
        self.stages = stages
        self.modes = [[plan.mode for plan in plans] for plans in stages]
        self.site_of = site_of if site_of is not None else [0] * len(patients.exit_day)
        self.exit_day = patients.exit_day.tolist()
        self.exit_event = patients.exit_event.tolist()
        self.log = log
        self.on_treatment: Callable[[int, float], None] | None = None  # called as it acts

    def journey(self, p: int) -> Journey:
        """The generator SimPy runs for patient ``p`` from referral to the end of the arm."""
        site = self.site_of[p]
        env, log, stages, modes = (
            self.env,
            self.log.flat.extend,
            self.stages[site],
            self.modes[site],
        )
        exit_day: float = self.exit_day[p]
        limit = exit_day  # time the patient would leave while still waiting for treatment
        t = env.now
        visits = [0] * len(stages)
        held: list[tuple[int, int]] = []  # booked units: (stage holding, stage releasing)
        i = 0
        while i < len(stages):
            plan = stages[i]
            visit = min(visits[i], len(plan.durations) - 1)
            visits[i] += 1
            mode = modes[i]
            if mode == SKIP:
                i += 1
                continue
            if mode == TREAT:
                log((p, i, TREATMENT, t, NO_CODE))
                limit = math.inf
                if self.on_treatment is not None:
                    self.on_treatment(p, t)
            elif mode == UNTIMED:
                t = self._untimed(p, i, plan, t, plan.durations[visit][p], limit)
            else:  # a limited resource: the only place a patient can wait
                if t > env.now:
                    yield env.timeout(t - env.now)
                t, limit = yield from self._seize(p, i, plan, plan.durations[visit][p], limit)
                if plan.hold_until is not None and t < limit:
                    held.append((i, plan.hold_until))
            if t >= limit:
                yield from self._release(p, held, min(t, limit))
                log((p, i, self.exit_event[p], limit, NO_CODE))
                return
            failure, draws = plan.failure, plan.failure_draws
            if failure is not None and draws is not None and draws[visit][p] < failure.probability:
                yield from self._release(p, held, t)  # going back ends every booking
                if visits[i] >= failure.max_attempts:
                    log((p, i, FAILED, t, NO_CODE))
                    return
                i = plan.back_to
                continue
            if held:
                yield from self._release(p, held, t, until=i)
            i += 1
        yield from self._release(p, held, t)
        log((p, len(stages) - 1, COMPLETED, t, NO_CODE))

    def _release(
        self, p: int, held: list[tuple[int, int]], t: float, until: int | None = None
    ) -> Journey:
        """Release at ``t`` the booked units that stage ``until`` releases (None: all), logging
        the end of their use."""
        for entry in [h for h in held if until is None or h[1] == until]:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            plan = self.stages[self.site_of[p]][entry[0]]
            assert plan.pool is not None
            if plan.pool.slots is not None:
                plan.pool.slots.release()
            self.log.flat.extend((p, entry[0], END, t, plan.resource_code))
            held.remove(entry)

    def _untimed(
        self, p: int, i: int, plan: StagePlan, t: float, duration: float, limit: float
    ) -> float:
        """A delay or a seize of an unlimited resource: advance the cursor, log, no SimPy event."""
        log, code = self.log.flat.extend, plan.resource_code
        pool = plan.pool
        if plan.dispatch is not None:  # a transport leg: wait for the courier's collection
            log((p, i, QUEUE, t, NO_CODE))
            t = plan.dispatch.collection(t)
            if t >= limit:
                log((p, i, LEAVE, limit, NO_CODE))
                return limit
        if pool is not None:
            log((p, i, QUEUE, t, code))
            start = t if pool.always_open else pool.next_start(t)
            if start >= limit:
                log((p, i, LEAVE, limit, code))
                return limit
            t = start
        end = t + duration
        if end > limit:
            end = limit
        log((p, i, START, t, code, p, i, END, end, code))
        return end

    def _seize(
        self, p: int, i: int, plan: StagePlan, duration: float, limit: float
    ) -> Generator[simpy.Event, None, tuple[float, float]]:
        """Queue for a limited resource and hold it for ``duration`` days (or until the patient
        leaves). Returns the time the stage ends (``limit`` if the patient left) and the new
        ``limit``: infinite once a treatment given during the stay has acted."""
        env, log, code, pool = self.env, self.log.flat.extend, plan.resource_code, plan.pool
        assert pool is not None
        slots = pool.slots
        now = env.now
        log((p, i, QUEUE, now, code))
        rank = pool.rank[p] if pool.rank is not None else 0
        grant = slots.request(rank) if slots is not None else None
        if grant is not None:
            if limit < math.inf:
                yield grant | env.timeout(limit - now)
                if not grant.triggered:
                    slots.cancel(grant)  # type: ignore[union-attr]
                    log((p, i, LEAVE, env.now, code))
                    return limit, limit
            else:
                yield grant
            now = env.now
        start = now if pool.always_open else pool.next_start(now)
        if start >= limit:  # leaves before the resource opens
            yield env.timeout(limit - now)
            if slots is not None:
                slots.release()
            log((p, i, LEAVE, limit, code))
            return limit, limit
        log((p, i, START, start, code))
        if plan.restock_days is not None and slots is not None:  # a dose: back when replaced
            take_dose(env, slots, log, (p, i, code), start, plan.restock_days[p])
            return start + duration, limit
        anchor = start  # ICU transfers count from the treatment, or from admission
        if plan.treat_after is not None and start + plan.treat_after < limit:
            anchor = start + plan.treat_after
            log((p, i, TREATMENT, anchor, NO_CODE))
            limit = math.inf
            if self.on_treatment is not None:
                self.on_treatment(p, anchor)
        end = start + duration
        if end > limit:
            end = limit
        elif plan.icu_days is not None and plan.icu_days[p] == plan.icu_days[p]:  # not NaN
            yield from self._icu(p, i, plan, anchor, plan.icu_days[p])
            now = env.now
            end = now + max(0.0, duration - (anchor - start) - plan.icu_onset)
        yield env.timeout(end - now)
        if plan.hold_until is not None and end < limit:
            return end, limit  # booked on: released when stage hold_until ends
        if slots is not None:
            slots.release()
        log((p, i, END, end, code))
        return end, limit

    def _icu(self, p: int, i: int, plan: StagePlan, anchor: float, icu_days: float) -> Journey:
        """Escalation to ICU ``icu_onset`` days after ``anchor``, keeping the ward bed."""
        env, record, code = self.env, self.log.record, plan.icu_code
        assert plan.icu_pool is not None
        onset = anchor + plan.icu_onset
        if onset > env.now:
            yield env.timeout(onset - env.now)
        record(p, i, QUEUE, env.now, code)
        icu = plan.icu_pool.slots
        ranks = plan.icu_pool.rank
        grant = icu.request(ranks[p] if ranks is not None else 0) if icu is not None else None
        if grant is not None:
            yield grant
        record(p, i, START, env.now, code)
        yield env.timeout(icu_days)
        if icu is not None:
            icu.release()
        record(p, i, END, env.now, code)
