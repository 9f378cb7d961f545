"""The stage engine: one patient's journey through an arm's stages, written to the event log.

Only steps that compete for a limited resource are SimPy events. Delays, treatment and seizes of
unlimited resources advance a per-patient time cursor without touching the event queue; the
patient yields to SimPy just before it needs a limited resource. Durations, failures and the time
a waiting patient would die or drop out are pre-sampled per patient (and visit), so the journey
draws no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

from cartsim.eventlog import EVENT_CODE, NO_CODE, EventLog
from cartsim.resources import Pool
from cartsim.scenario import Failure, Treatment

QUEUE, LEAVE, START, END = (EVENT_CODE[e] for e in ("queue", "leave_queue", "start", "end"))
TREATMENT, COMPLETED, FAILED = (EVENT_CODE[e] for e in ("treatment", "completed", "failed"))


@dataclass
class StagePlan:
    """A stage with its per-patient draws: ``durations[visit, patient]`` in days."""

    kind: type
    pool: Pool | None
    resource_code: int
    durations: np.ndarray
    failure: Failure | None = None
    back_to: int = 0
    failure_draws: np.ndarray | None = None  # uniforms [visit, patient]
    icu_pool: Pool | None = None
    icu_code: int = NO_CODE
    icu_days: np.ndarray | None = None  # per patient; NaN when not escalated
    icu_onset: float = 0.0


@dataclass
class PatientPlan:
    """Per-patient exits while waiting: time of death or dropout (days) and which it is."""

    exit_day: np.ndarray  # inf when the patient never leaves while waiting
    exit_event: np.ndarray  # event code: died_waiting or dropped_out


class Pathway:
    """Runs journeys through one arm in one SimPy environment."""

    def __init__(
        self,
        env: simpy.Environment,
        stages: list[StagePlan],
        patients: PatientPlan,
        log: EventLog,
    ) -> None:
        self.env = env
        self.stages = stages
        self.patients = patients
        self.log = log

    def journey(self, p: int) -> Generator[simpy.Event, object, None]:
        """The generator SimPy runs for patient ``p`` from referral to the end of the arm."""
        env, record = self.env, self.log.record
        exit_day = float(self.patients.exit_day[p])
        treated = False
        t = env.now
        visits = [0] * len(self.stages)
        i = 0
        while i < len(self.stages):
            plan = self.stages[i]
            visit = min(visits[i], plan.durations.shape[0] - 1)
            visits[i] += 1
            limit = math.inf if treated else exit_day
            if plan.kind is Treatment:
                record(p, i, TREATMENT, t, NO_CODE)
                treated = True
            elif plan.pool is None or (plan.pool.simpy is None and plan.icu_days is None):
                t = self._untimed(p, i, plan, t, float(plan.durations[visit, p]), limit)
            else:
                if t > env.now:
                    yield env.timeout(t - env.now)
                yield from self._seize(p, i, plan, float(plan.durations[visit, p]), limit)
                t = env.now
            if t >= limit:
                record(p, i, int(self.patients.exit_event[p]), limit, NO_CODE)
                return
            failure = plan.failure
            if failure and plan.failure_draws is not None:
                if plan.failure_draws[visit, p] < failure.probability:
                    if visits[i] >= failure.max_attempts:
                        record(p, i, FAILED, t, NO_CODE)
                        return
                    i = plan.back_to
                    continue
            i += 1
        record(p, len(self.stages) - 1, COMPLETED, t, NO_CODE)

    def _untimed(
        self, p: int, i: int, plan: StagePlan, t: float, duration: float, limit: float
    ) -> float:
        """A delay or a seize of an unlimited resource: advance the cursor, log, no SimPy event."""
        record, code = self.log.record, plan.resource_code
        if plan.pool is not None:
            record(p, i, QUEUE, t, code)
            start = plan.pool.opening.next_start(t)
            if start >= limit:
                record(p, i, LEAVE, limit, code)
                return limit
            t = start
        record(p, i, START, t, code)
        end = min(t + duration, limit)
        record(p, i, END, end, code)
        return end

    def _seize(
        self, p: int, i: int, plan: StagePlan, duration: float, limit: float
    ) -> Generator[simpy.Event, object, None]:
        """Queue for a limited resource, hold it for ``duration`` (or until the patient leaves)."""
        env, record, code = self.env, self.log.record, plan.resource_code
        assert plan.pool is not None
        resource = plan.pool.simpy
        record(p, i, QUEUE, env.now, code)
        request = resource.request() if resource is not None else None
        if request is not None and not request.triggered:
            if limit < math.inf:
                yield request | env.timeout(limit - env.now)
                if not request.triggered:
                    request.cancel()  # type: ignore[no-untyped-call]
                    record(p, i, LEAVE, env.now, code)
                    return
            else:
                yield request
        start = plan.pool.opening.next_start(env.now)
        if start >= limit:
            yield env.timeout(limit - env.now)
            if resource is not None and request is not None:
                resource.release(request)
            record(p, i, LEAVE, limit, code)
            return
        record(p, i, START, start, code)
        end = min(start + duration, limit)
        if plan.icu_days is not None and not math.isnan(plan.icu_days[p]) and end < limit:
            yield from self._icu(p, i, plan, start, float(plan.icu_days[p]))
            end = env.now + max(0.0, duration - plan.icu_onset)
        if end > env.now:
            yield env.timeout(end - env.now)
        if resource is not None and request is not None:
            resource.release(request)
        record(p, i, END, end, code)

    def _icu(
        self, p: int, i: int, plan: StagePlan, start: float, icu_days: float
    ) -> Generator[simpy.Event, object, None]:
        """Escalation to ICU ``icu_onset`` days into a stay, keeping the ward bed."""
        env, record, code = self.env, self.log.record, plan.icu_code
        assert plan.icu_pool is not None
        onset = start + plan.icu_onset
        if onset > env.now:
            yield env.timeout(onset - env.now)
        record(p, i, QUEUE, env.now, code)
        icu = plan.icu_pool.simpy
        request = icu.request() if icu is not None else None
        if request is not None and not request.triggered:
            yield request
        record(p, i, START, env.now, code)
        yield env.timeout(icu_days)
        if icu is not None and request is not None:
            icu.release(request)
        record(p, i, END, env.now, code)

