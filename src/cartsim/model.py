"""One replication: the environment, resources, cohort and pathways wired together.

Head-to-head, each arm runs the same referred cohort in an environment of its own (arms never
share resources). No loops over replications, no files, no economics here.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import simpy

from cartsim.cohort import Cohort, make_cohort
from cartsim.distributions import to_dist
from cartsim.eventlog import EVENT_CODE, NO_CODE, EventLog
from cartsim.outcomes import adverse_event_grades, waiting_death_days
from cartsim.pathway import Journey, Pathway, PatientPlan, StagePlan, start
from cartsim.resources import Pool, make_pools
from cartsim.scenario import Arm, Inpatient, Scenario, Treatment
from cartsim.streams import Streams

REFERRAL, NOT_ELIGIBLE = EVENT_CODE["referral"], EVENT_CODE["not_eligible"]
DIED, DROPPED = EVENT_CODE["died_waiting"], EVENT_CODE["dropped_out"]


@dataclass
class ArmRun:
    """What one arm produced in one replication."""

    arm: str
    log: EventLog
    capacity: dict[str, float]
    grades: dict[str, np.ndarray]


@dataclass
class ReplicationRun:
    replication: int
    cohort: Cohort
    arms: dict[str, ArmRun]


def eligible(arm: Arm, scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """Boolean per patient: may this patient enter the arm?"""
    rule = arm.eligibility
    ok = np.ones(cohort.size, dtype=bool)
    if rule.diseases is not None:
        codes = [scenario.diseases.index(d) for d in rule.diseases]
        ok &= np.isin(cohort.disease, codes)
    if rule.max_age is not None:
        ok &= cohort.age <= rule.max_age
    return ok


def waiting_exits(scenario: Scenario, cohort: Cohort) -> PatientPlan:
    """Pre-sample when each patient would die or drop out if still waiting (days).

    Deaths come from the mortality model with the active-disease SMR when the scenario has one
    (the same draw as the deaths after treatment), else from ``waiting.death_hazard_per_day``.
    """
    exit_day = np.full(cohort.size, math.inf)
    exit_event = np.full(cohort.size, DIED, dtype=np.int64)
    u_death, u_drop = cohort.draw("waiting.death"), cohort.draw("waiting.dropout")
    modelled = waiting_death_days(scenario, cohort) if scenario.mortality else None
    for code, disease in enumerate(scenario.diseases):
        mask = cohort.disease == code
        h_death = scenario.waiting.hazard("death", disease)
        h_drop = scenario.waiting.hazard("dropout", disease)
        with np.errstate(divide="ignore"):
            t_death = -np.log1p(-u_death[mask]) / h_death if h_death > 0 else np.inf
            t_drop = -np.log1p(-u_drop[mask]) / h_drop if h_drop > 0 else np.inf
        if modelled is not None:
            t_death = modelled[mask]
        first = np.minimum(t_death, t_drop)
        exit_day[mask] = cohort.arrival_day[mask] + first
        exit_event[mask] = np.where(np.less(t_drop, t_death), DROPPED, DIED)
    return PatientPlan(exit_day=exit_day, exit_event=exit_event)


def max_visits(arm: Arm) -> int:
    """Largest number of times any stage can run (failure rules send patients back)."""
    return max([s.failure.max_attempts for s in arm.stages if s.failure] or [1])


def plan_stages(
    arm_name: str,
    arm: Arm,
    cohort: Cohort,
    pools: dict[str, Pool],
    resource_codes: dict[str, int],
    grades: dict[str, np.ndarray],
) -> list[StagePlan]:
    """Pre-sample every stage's durations, failures and ICU escalations per patient."""
    visits = max_visits(arm)
    names = [s.name for s in arm.stages]
    plans = []
    for stage in arm.stages:
        prefix = f"{arm_name}.{stage.name}"
        if isinstance(stage, Treatment):
            durations = np.zeros((1, cohort.size))
        else:
            dist = to_dist(stage.duration)
            durations = np.stack(
                [dist.ppf(cohort.draw(f"{prefix}.duration.{k}")) for k in range(visits)]
            ).clip(min=0.0)
        if isinstance(stage, Inpatient):
            durations = durations + stage.extra_days_per_crs_grade * grades["crs"]
        resource = getattr(stage, "resource", None)
        plan = StagePlan(
            kind=type(stage),
            pool=pools[resource] if resource else None,
            resource_code=resource_codes[resource] if resource else NO_CODE,
            durations=durations.tolist(),
        )
        if stage.failure:
            plan.failure = stage.failure
            plan.back_to = names.index(stage.failure.back_to)
            plan.failure_draws = [
                cohort.draw(f"{prefix}.failure.{k}").tolist() for k in range(visits)
            ]
        if isinstance(stage, Inpatient) and stage.icu:
            icu = stage.icu
            escalated = (grades["crs"] >= icu.crs_grade_at_least) | (
                grades["icans"] >= icu.icans_grade_at_least
            )
            days = to_dist(icu.duration).ppf(cohort.draw(f"{prefix}.icu_days")).clip(min=0)
            plan.icu_days = np.where(escalated, days, np.nan).tolist()
            plan.icu_pool = pools[icu.resource]
            plan.icu_code = resource_codes[icu.resource]
            plan.icu_onset = icu.onset_days
        plans.append(plan)
    return plans


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause cyclic garbage collection: a simulation allocates millions of short-lived objects
    and stores millions of log records, which otherwise makes collections slow it down by half."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_arm(scenario: Scenario, arm_name: str, cohort: Cohort, exits: PatientPlan) -> ArmRun:
    """Simulate the whole cohort through one arm until the horizon."""
    arm = scenario.arms[arm_name]
    env = simpy.Environment()
    pools = make_pools(env, scenario.resources, scenario.run.start_date)
    resource_names = list(scenario.resources)
    codes = {name: i for i, name in enumerate(resource_names)}
    grades = adverse_event_grades(arm, cohort)
    log = EventLog([s.name for s in arm.stages], resource_names)
    plans = plan_stages(arm_name, arm, cohort, pools, codes, grades)
    pathway = Pathway(env, plans, exits, log)
    start(_referrals(env, pathway, cohort, eligible(arm, scenario, cohort)))
    with paused_gc():
        env.run(until=scenario.run.horizon_days)
    return ArmRun(
        arm=arm_name,
        log=log,
        capacity={name: pool.capacity for name, pool in pools.items()},
        grades=grades,
    )


def _referrals(
    env: simpy.Environment, pathway: Pathway, cohort: Cohort, is_eligible: np.ndarray
) -> Journey:
    """Refer patients in order of referral day; each eligible one starts its journey."""
    log = pathway.log.flat.extend
    for p, (day, ok) in enumerate(
        zip(cohort.arrival_day.tolist(), is_eligible.tolist(), strict=True)
    ):
        if day > env.now:
            yield env.timeout(day - env.now)
        if ok:
            log((p, NO_CODE, REFERRAL, day, NO_CODE))
            start(pathway.journey(p))
        else:
            log((p, NO_CODE, REFERRAL, day, NO_CODE, p, NO_CODE, NOT_ELIGIBLE, day, NO_CODE))


def run_replication(scenario: Scenario, replication: int, draw: int = 0) -> ReplicationRun:
    """All arms of one replication on one shared referred cohort."""
    streams = Streams(scenario.run.seed, replication=replication, draw=draw)
    cohort = make_cohort(scenario, streams)
    exits = waiting_exits(scenario, cohort)
    arms = {name: run_arm(scenario, name, cohort, exits) for name in scenario.arms}
    return ReplicationRun(replication=replication, cohort=cohort, arms=arms)
