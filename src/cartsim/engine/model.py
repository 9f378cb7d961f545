"""One replication: the environment, resources, cohort and pathways wired together.

Head-to-head, each arm runs the same referred cohort on resources of its own (arms never share
resources; a small cohort's arms share one SimPy environment, which changes no arm's events).
No loops over replications, no files, no economics here.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import simpy

from cartsim.engine.adverse_events import adverse_event_grades, licats_extra_days, treated_stay
from cartsim.engine.cohort import Cohort, make_cohort
from cartsim.engine.eventlog import COMPACT_EVERY, EVENT_CODE, NO_CODE, EventLog
from cartsim.engine.mortality import waiting_death_days
from cartsim.engine.pathway import Journey, Pathway, PatientPlan, StagePlan, start
from cartsim.engine.resources import Pool, make_pools
from cartsim.engine.retreatment import RETREAT, Retreatment
from cartsim.engine.routing import route
from cartsim.engine.streams import Streams
from cartsim.engine.transport import Dispatch
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.sites import all_resources, location, resolve, site_names
from cartsim.inputs.stages import Activity, Inpatient, Stage, Transport, Treatment

REFERRAL, NOT_ELIGIBLE = EVENT_CODE["referral"], EVENT_CODE["not_eligible"]
DIED, DROPPED = EVENT_CODE["died_waiting"], EVENT_CODE["dropped_out"]


@dataclass
class ArmRun:
    """What one arm produced in one replication (``routed``: its patients in a service mix)."""

    arm: str
    log: EventLog
    capacity: dict[str, float | np.ndarray]  # per day when it changes during the run
    grades: dict[str, np.ndarray]
    routed: np.ndarray | None = None
    retreat: list[ArmRun] = field(default_factory=list)  # per on_relapse rule: second journeys


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
    if rule.screen_fail > 0:  # one uniform per patient, shared by every arm
        ok &= cohort.draw("screening") >= rule.screen_fail
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
    scenario: Scenario,
    site: str | None = None,
) -> list[StagePlan]:
    """Pre-sample every stage's durations, failures and ICU escalations per patient; resources
    and transport legs as a patient of ``site`` meets them (None: no sites)."""
    visits = max_visits(arm)
    names = [s.name for s in arm.stages]
    plans = []
    licats_stay = treated_stay(arm)
    draws = [stage_draws(arm_name, stage, visits) for stage in arm.stages]
    cohort.prefetch(planned_draws(arm_name, arm))  # run_arms drew all but a rescue arm's
    for index, (stage, named) in enumerate(zip(arm.stages, draws, strict=True)):
        if isinstance(stage, Treatment):
            durations = np.zeros((1, cohort.size))
        else:
            dist = to_dist(stage.duration)
            durations = np.stack([dist.ppf(cohort.draw(n)) for n in named["duration"]]).clip(
                min=0.0
            )
        if isinstance(stage, Inpatient):
            durations = durations + stage.extra_days_per_crs_grade * grades["crs"]
            if index == licats_stay:
                durations = durations + licats_extra_days(arm, grades["licats"])
        resource = getattr(stage, "resource", None)
        resource = resolve(scenario, resource, site) if resource else None
        plan = StagePlan(
            kind=type(stage),
            pool=pools[resource] if resource else None,
            resource_code=resource_codes[resource] if resource else NO_CODE,
            durations=durations.tolist(),
        )
        if stage.failure:
            plan.failure = stage.failure
            plan.back_to = names.index(stage.failure.back_to)
            plan.failure_draws = [cohort.draw(n).tolist() for n in named["failure"]]
        if isinstance(stage, Inpatient):
            plan.treat_after = stage.treatment_day
        if isinstance(stage, Activity) and stage.restock_days is not None:
            (restock,) = named["restock"]
            lead = to_dist(stage.restock_days).ppf(cohort.draw(restock))
            plan.restock_days = lead.clip(min=0.0).tolist()
        if isinstance(stage, Activity) and stage.hold_until is not None:
            plan.hold_until = names.index(stage.hold_until)
        if isinstance(stage, Transport):
            ends = {location(scenario, r, site) for r in (stage.origin, stage.destination)}
            plan.skip = len(ends) == 1
            plan.dispatch = Dispatch.of(stage, scenario.run.start_date)
        if isinstance(stage, Inpatient) and stage.icu:
            icu = stage.icu
            (u_icu,), (u_days,) = named["icu"], named["icu_days"]
            escalated = (
                (grades["crs"] >= icu.crs_grade_at_least)
                | (grades["icans"] >= icu.icans_grade_at_least)
                | (cohort.draw(u_icu) < icu.probability)
            )
            days = to_dist(icu.duration).ppf(cohort.draw(u_days)).clip(min=0)
            plan.icu_days = np.where(escalated, days, np.nan).tolist()
            icu_resource = resolve(scenario, icu.resource, site)
            plan.icu_pool = pools[icu_resource]
            plan.icu_code = resource_codes[icu_resource]
            plan.icu_onset = icu.onset_days
        plans.append(plan)
    return plans


def stage_draws(arm_name: str, stage: Stage, visits: int) -> dict[str, list[str]]:
    """The names of the uniforms :func:`plan_stages` draws for ``stage``, by what they are for
    (``duration`` and ``failure``: one per visit; ``restock``, ``icu``, ``icu_days``: one), so
    that they can be drawn at once."""
    prefix = f"{arm_name}.{stage.name}"
    names: dict[str, list[str]] = {}
    if not isinstance(stage, Treatment):
        names["duration"] = [f"{prefix}.duration.{k}" for k in range(visits)]
    if stage.failure:
        names["failure"] = [f"{prefix}.failure.{k}" for k in range(visits)]
    if isinstance(stage, Activity) and stage.restock_days is not None:
        names["restock"] = [f"{prefix}.restock"]
    if isinstance(stage, Inpatient) and stage.icu:
        names["icu"], names["icu_days"] = [f"{prefix}.icu"], [f"{prefix}.icu_days"]
    return names


def planned_draws(arm_name: str, arm: Arm) -> list[str]:
    """The names of every uniform :func:`plan_stages` draws for the arm."""
    roles = [stage_draws(arm_name, stage, max_visits(arm)) for stage in arm.stages]
    return [name for named in roles for group in named.values() for name in group]


def site_plans(
    scenario: Scenario,
    arm_name: str,
    arm: Arm,
    cohort: Cohort,
    pools: dict[str, Pool],
    codes: dict[str, int],
    grades: dict[str, np.ndarray],
) -> list[list[StagePlan]]:
    """The arm's plans for the patients of each site (one list without sites)."""
    return [
        plan_stages(arm_name, arm, cohort, pools, codes, grades, scenario, site)
        for site in site_names(scenario)
    ]


def _sites_of(cohort: Cohort) -> list[int] | None:
    return None if cohort.site is None else cohort.site.tolist()


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


def merged_run(runs: list[ArmRun]) -> ArmRun:
    """One log of several arms that shared resources, second journeys after relapse included
    (stage codes lose their meaning)."""
    log = EventLog([], runs[0].log.resources)
    for run in runs:
        log.extend(run.log)
        for second in run.retreat:
            log.extend(second.log)
    return ArmRun(arm="service", log=log, capacity=runs[0].capacity, grades={})


def run_arms(
    scenario: Scenario,
    names: list[str],
    cohort: Cohort,
    exits: PatientPlan,
    arm_of: np.ndarray | None = None,
) -> dict[str, ArmRun]:
    """Simulate ``names`` in ONE environment.

    In a service mix (``arm_of`` given) the arms share the resources and patient p joins arm
    ``arm_of[p]``. Head-to-head (``arm_of`` None) every arm has resources of its own and every
    patient starts a journey in each arm, in arm order: the arms share nothing but the clock and
    the referrals, so each arm's events run in the order they would alone (SimPy runs events by
    time, then in the order they were scheduled) and each log is the one the arm gives alone.
    """
    env = simpy.Environment()
    every = all_resources(scenario)
    resource_names = list(every)
    codes = {name: i for i, name in enumerate(resource_names)}
    days = math.ceil(scenario.run.horizon_days)
    runs, pathways, allowed = {}, [], []
    pools: dict[str, Pool] = {}
    cohort.prefetch([u for name in names for u in planned_draws(name, scenario.arms[name])])
    for name in names:
        if arm_of is None or not pools:  # head-to-head: the arm's own resources
            pools = make_pools(env, every, scenario.run.start_date, scenario.calendars,
                               scenario.run.horizon_days, cohort)  # fmt: skip
        arm = scenario.arms[name]
        grades = adverse_event_grades(arm, cohort)
        log = EventLog([s.name for s in arm.stages], resource_names)
        plans = site_plans(scenario, name, arm, cohort, pools, codes, grades)
        pathways.append(Pathway(env, plans, exits, log, _sites_of(cohort)))
        allowed.append(eligible(arm, scenario, cohort))
        capacity = {n: pool.daily_capacity(days) for n, pool in pools.items()}
        runs[name] = ArmRun(arm=name, log=log, capacity=capacity, grades=grades)
        if arm.on_relapse:
            runs[name].retreat = _retreat_runs(scenario, arm, cohort, env, pools, pathways[-1])
    start(_referrals(env, pathways, allowed, arm_of, cohort))
    with paused_gc():
        env.run(until=scenario.run.horizon_days)
    return runs


def _retreat_runs(
    scenario: Scenario,
    arm: Arm,
    cohort: Cohort,
    env: simpy.Environment,
    pools: dict[str, Pool],
    first: Pathway,
) -> list[ArmRun]:
    """Pathways of the arms relapsing patients of ``arm`` are referred to, in the same
    environment, with uniforms of their own (``retreat.*``); ``first`` refers them."""
    view = cohort.view(RETREAT)
    resources = list(all_resources(scenario))
    codes = {name: i for i, name in enumerate(resources)}
    never = PatientPlan(
        exit_day=np.full(cohort.size, math.inf), exit_event=np.full(cohort.size, DIED)
    )
    runs, targets = [], []
    for rule in arm.on_relapse:
        target = scenario.arms[rule.arm]
        grades = adverse_event_grades(target, view)
        log = EventLog([s.name for s in target.stages], resources)
        plans = site_plans(scenario, rule.arm, target, view, pools, codes, grades)
        targets.append(Pathway(env, plans, never, log, _sites_of(view)))
        days = math.ceil(scenario.run.horizon_days)
        capacity = {n: pool.daily_capacity(days) for n, pool in pools.items()}
        runs.append(ArmRun(arm=rule.arm, log=log, capacity=capacity, grades=grades))
    first.on_treatment = Retreatment(scenario, arm, cohort, targets, env)
    return runs


def _referrals(
    env: simpy.Environment,
    pathways: list[Pathway],
    allowed: list[np.ndarray],
    arm_of: np.ndarray | None,
    cohort: Cohort,
) -> Journey:
    """Refer patients in order of referral day; each eligible one starts its journey in arm
    ``arm_of[p]`` (None: in every arm, in arm order)."""
    logs = [pathway.log.flat.extend for pathway in pathways]
    ok = [a.tolist() for a in allowed]
    days = cohort.arrival_day.tolist()
    if arm_of is None:
        chosen = [list(range(len(pathways)))] * len(days)
    else:
        alone = [[k] for k in range(len(pathways))]
        chosen = [alone[k] for k in arm_of.tolist()]
    for p, (day, ks) in enumerate(zip(days, chosen, strict=True)):
        if p % COMPACT_EVERY == 0:
            for pathway in pathways:
                pathway.log.compact()
        if day > env.now:
            yield env.timeout(day - env.now)
        for k in ks:
            if ok[k][p]:
                logs[k]((p, NO_CODE, REFERRAL, day, NO_CODE))
                start(pathways[k].journey(p))
            else:
                logs[k]((p, NO_CODE, REFERRAL, day, NO_CODE,
                         p, NO_CODE, NOT_ELIGIBLE, day, NO_CODE))  # fmt: skip


ONE_ENVIRONMENT_PATIENTS = 1 << 14  # head-to-head arms of a cohort this small share a run


def run_replication(
    scenario: Scenario, replication: int, draw: int = 0, only: Collection[str] | None = None
) -> ReplicationRun:
    """All arms of one replication on one shared referred cohort (head-to-head, ``only``: just
    the compared arms named; each gives the log it gives with all the others).

    Head-to-head, each arm runs the whole cohort on resources of its own; in a service mix,
    the referral policy splits the cohort and the arms share the resources. A service mix, and
    the head-to-head arms of a cohort of up to :data:`ONE_ENVIRONMENT_PATIENTS`, run in one
    environment (:func:`run_arms`: one referral event per patient for all arms); a larger
    cohort's arms run one after another, so only one arm's per-patient plans are held at once.
    Both give every arm the same log.
    Rescue-only arms run only as second journeys after relapse, inside the relapsing arm's
    environment (:mod:`cartsim.engine.retreatment`).
    """
    streams = Streams(scenario.run.seed, replication=replication, draw=draw)
    cohort = make_cohort(scenario, streams)
    exits = waiting_exits(scenario, cohort)
    names = list(scenario.arms)
    if scenario.comparison == "service_mix":
        arm_of = route(scenario, cohort)
        arms = run_arms(scenario, names, cohort, exits, arm_of)
        for k, name in enumerate(names):
            arms[name].routed = arm_of == k
        arms = {name: arms[name] for name in scenario.compared_arms}
    else:
        names = [n for n in scenario.compared_arms if only is None or n in only]
        together = cohort.size <= ONE_ENVIRONMENT_PATIENTS
        arms = {}
        for group in [names] if together else [[name] for name in names]:
            arms.update(run_arms(scenario, group, cohort, exits))
    return ReplicationRun(replication=replication, cohort=cohort, arms=arms)
