"""Referral again after a relapse, into another arm's stages, in the same SimPy environment.

When an arm's treatment acts, the patient's response, relapse and death days follow from uniforms
drawn before the simulation (:mod:`cartsim.engine.relapse`). If the patient relapses alive before
the simulation's horizon, one uniform (``retreat.route``) picks an ``on_relapse`` rule by its
share, and at the relapse day the patient starts a journey through the target arm's stages,
queueing for the same resources as first-line patients. Simplifications: the second journey's
only exit while waiting is death (on the first course's standard-of-care path after the relapse;
no dropout); relapses after the simulation's horizon are not referred again; a second relapse is
not referred again.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import EVENT_CODE, NO_CODE
from cartsim.engine.pathway import Journey, Pathway, start
from cartsim.engine.relapse import outcome, treatment_effect
from cartsim.inputs.scenario import Arm, Scenario

REFERRAL = EVENT_CODE["referral"]
DIED = EVENT_CODE["died_waiting"]
RETREAT = "retreat."  # prefix of the uniforms of a second treatment


class Retreatment:
    """The ``on_treatment`` callback of one arm's pathway: refers relapsing patients again."""

    def __init__(
        self,
        scenario: Scenario,
        arm: Arm,
        cohort: Cohort,
        targets: list[Pathway],
        env: simpy.Environment,
    ) -> None:
        self.scenario, self.arm, self.cohort, self.env = scenario, arm, cohort, env
        self.targets = targets  # one pathway per rule of arm.on_relapse
        self.route = cohort.draw(RETREAT + "route").tolist()
        self.bounds = np.cumsum([rule.share for rule in arm.on_relapse]).tolist()
        self.horizon = scenario.run.horizon_days

    def __call__(self, p: int, day: float) -> None:
        """Patient ``p`` treated on ``day``: start their second journey at the relapse day."""
        k = next((k for k, b in enumerate(self.bounds) if self.route[p] < b), None)
        if k is None:
            return
        one = self.cohort.view(index=np.array([p]))
        effect = treatment_effect(self.arm, one, np.array([day]))
        course = outcome(self.scenario, effect, one, np.array([math.nan]))
        relapse = float(course["relapse_day"][0])
        if not relapse < self.horizon:  # NaN: no relapse while alive
            return
        death = float(course["death_day"][0])
        target = self.targets[k]
        target.exit_day[p] = death if death == death else math.inf
        target.exit_event[p] = DIED
        start(_second_journey(self.env, target, p, relapse))


def _second_journey(env: simpy.Environment, pathway: Pathway, p: int, day: float) -> Journey:
    """Wait until the relapse day, then the referral and the journey through the target arm."""
    yield env.timeout(day - env.now)
    pathway.log.flat.extend((p, NO_CODE, REFERRAL, day, NO_CODE))
    yield from pathway.journey(p)
