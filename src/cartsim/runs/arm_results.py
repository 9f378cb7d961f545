"""One arm's results of a simulated replication: its patients' columns (clinical course, costs,
QALYs) and KPIs, derived from the arm's event log.

An arm is derived in two steps around the valuation of its course (:func:`arm_course`, then
:func:`finish_arm`), so that the courses of many arms, and of many runs, can be valued in one
vectorised pass (:func:`results_of`) with the same values as one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartsim.engine.model import ReplicationRun, merged_run
from cartsim.evaluate.cashflows import Course, course
from cartsim.evaluate.course import clinical_course
from cartsim.evaluate.derive import (
    Columns,
    daily_utilisation,
    events_table,
    patient_columns,
    resource_series,
    select,
    stage_starts,
)
from cartsim.evaluate.economics import budget, evaluate, evaluate_many
from cartsim.evaluate.kpis import (
    SUMMARY_KPIS,
    patient_metrics,
    resource_metrics,
    utilisation_metrics,
)
from cartsim.evaluate.retreatment import add_retreatment_costs, retreatment_columns
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.sites import all_resources
from cartsim.inputs.units import DAYS_PER_YEAR


@dataclass
class ArmResult:
    """One arm of one replication: its (routed) patients' columns, KPIs and optional detail."""

    columns: Columns
    measures: dict[str, float]
    series: dict[str, np.ndarray] | None = None
    spend: pd.DataFrame | None = None
    events: pd.DataFrame | None = None


def arm_result(
    scenario: Scenario,
    run: ReplicationRun,
    name: str,
    detail: bool,
    events: bool,
    summary: bool = False,
) -> ArmResult:
    """Derive one arm's patients (clinical course, costs, QALYs) and KPIs from its log
    (``summary``: only the counts, :data:`SUMMARY_KPIS` and utilisation, no series kept)."""
    columns, course_ = arm_course(scenario, run, name)
    values = None
    if course_ is not None and scenario.economics is not None:
        values = evaluate(course_, scenario.economics)
    return finish_arm(scenario, run, name, columns, course_, values, detail, events, summary)


VALUED_TOGETHER = 1 << 14  # patients (cohorts of runs valued together) in one pass at most


def run_results(
    scenario: Scenario, run: ReplicationRun, detail: bool, events: bool, summary: bool = False
) -> dict[str, ArmResult]:
    """:func:`arm_result` of every arm of ``run`` (see :func:`results_of`)."""
    return next(results_of([(scenario, run)], detail, events, summary))


Derived = tuple[Scenario, ReplicationRun, dict[str, tuple[Columns, Course | None]]]


def results_of(
    runs: Iterable[tuple[Scenario, ReplicationRun]],
    detail: bool,
    events: bool,
    summary: bool = False,
) -> Iterator[dict[str, ArmResult]]:
    """:func:`arm_result` of every arm of each run (a scenario and its simulated replication,
    e.g. the draws of a PSA), in order. The arms' courses of consecutive runs with up to
    :data:`VALUED_TOGETHER` patients in all are valued together
    (:func:`cartsim.evaluate.economics.evaluate_many`: the same values as one at a time); a
    larger cohort's arms one at a time, so only one arm's course is held at once. ``runs`` is
    read as the results are taken: only the runs valued together are held."""
    held: list[Derived] = []
    patients = 0
    for scenario, run in runs:
        size = run.cohort.size * len(run.arms)
        alone = scenario.economics is None or size > VALUED_TOGETHER
        if held and (alone or patients + size > VALUED_TOGETHER):
            yield from _valued(held, detail, events, summary)
            held, patients = [], 0
        if alone:
            yield {name: arm_result(scenario, run, name, detail, events, summary)
                   for name in run.arms}  # fmt: skip
            continue
        held.append((scenario, run, {name: arm_course(scenario, run, name) for name in run.arms}))
        patients += size
    yield from _valued(held, detail, events, summary)


def _valued(
    held: list[Derived], detail: bool, events: bool, summary: bool
) -> Iterator[dict[str, ArmResult]]:
    """The results of the runs ``held`` (their arms derived, courses not yet valued): the
    courses valued together, then every arm finished."""
    arms = [(k, name) for k, (_, _, parts) in enumerate(held) for name in parts]
    valuations = []
    for k, name in arms:
        scenario, _, parts = held[k]
        course_ = parts[name][1]
        assert course_ is not None and scenario.economics is not None  # held: with economics
        valuations.append((course_, scenario.economics))
    values = dict(zip(arms, evaluate_many(valuations), strict=True))
    for k, (scenario, run, parts) in enumerate(held):
        yield {
            name: finish_arm(
                scenario, run, name, columns, course_, values[k, name], detail, events, summary
            )  # fmt: skip
            for name, (columns, course_) in parts.items()
        }


def arm_course(scenario: Scenario, run: ReplicationRun, name: str) -> tuple[Columns, Course | None]:
    """One arm's patients' columns (clinical course included) and, with economics, their course
    of costs and utilities, not yet valued."""
    arm, arm_run, cohort = scenario.arms[name], run.arms[name], run.cohort
    resources, horizon = list(all_resources(scenario)), scenario.run.horizon_days
    columns = patient_columns(cohort, arm_run, arm, resources, horizon)
    if arm.on_relapse:
        columns.update(retreatment_columns(scenario, arm, arm_run, cohort, horizon))
    columns.update(clinical_course(scenario, arm, cohort, columns))
    if scenario.economics is None:
        return columns, None
    course_ = course(scenario, arm, columns, stage_starts(arm_run, arm, resources, horizon))
    drop_states(columns)  # costed and valued in the course: not kept longer
    if arm.on_relapse:
        add_retreatment_costs(scenario, arm, arm_run, cohort, course_, columns)
    return columns, course_


def finish_arm(
    scenario: Scenario,
    run: ReplicationRun,
    name: str,
    columns: Columns,
    course_: Course | None,
    values: Columns | None,
    detail: bool,
    events: bool,
    summary: bool,
) -> ArmResult:
    """One arm's result from its columns, course and the course's ``values`` (costs, QALYs)."""
    arm, arm_run, cohort = scenario.arms[name], run.arms[name], run.cohort
    resources, horizon = list(all_resources(scenario)), scenario.run.horizon_days
    mine = arm_run.routed if arm_run.routed is not None else np.ones(cohort.size, dtype=bool)
    result = ArmResult(columns=columns, measures={})
    if course_ is not None and values is not None:
        columns.update(values)
        if detail:
            years = int(np.ceil(horizon / DAYS_PER_YEAR))
            routed = course_ if mine.all() else course_.subset(mine)  # no copy of them all
            result.spend = budget(routed, columns["treatment_day"][mine], years)
            result.spend.insert(
                1, "calendar_year", scenario.run.start_date.year + result.spend["year"]
            )
    drop_states(columns)  # not copied into any table
    if arm_run.routed is not None:
        result.columns = select(columns, mine)
    warmup, window = scenario.run.warmup_days, scenario.run.arrival_window_days
    settled = result.columns["arrival_day"] >= warmup
    wanted = SUMMARY_KPIS if summary else None
    result.measures = patient_metrics(select(result.columns, settled), wanted)
    if scenario.comparison == "head_to_head":
        used = merged_run([arm_run]) if arm_run.retreat else arm_run  # with second journeys
        if summary:
            daily = daily_utilisation(used, resources, horizon)
            result.measures.update(utilisation_metrics(daily, resources, warmup, window))
        else:
            result.series = resource_series(used, resources, horizon)
            result.measures.update(resource_metrics(result.series, resources, warmup, window))
    if events and detail:
        result.events = events_table(arm_run, [s.name for s in arm.stages], resources)
    return result


def drop_states(columns: Columns) -> None:
    """Remove the working columns of the disease states (one column per state)."""
    for working in ("_state_end", "_remission"):
        columns.pop(working, None)
