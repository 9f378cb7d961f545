"""Replications of a scenario, run serially or in local processes; identical either way.

A unit of work is (scenario, parameter draw, replication): its random streams come from those
alone, so results do not depend on the executor or the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartsim.cohort import DAYS_PER_YEAR
from cartsim.derive import events_table, patients_table, resources_table, stage_starts
from cartsim.economics import budget, course, evaluate
from cartsim.kpis import replication_metrics
from cartsim.model import merged_run, run_replication
from cartsim.outcomes import clinical_course
from cartsim.scenario import Scenario


SERVICE = "service"  # the arm name of resource series in a service mix (all arms together)


@dataclass
class Tables:
    """The tidy tables of a run (``events`` may be empty when not kept)."""

    events: pd.DataFrame
    patients: pd.DataFrame
    resources: pd.DataFrame
    metrics: pd.DataFrame
    budget: pd.DataFrame

    @classmethod
    def concat(cls, parts: list[Tables]) -> Tables:
        def cat(frames: list[pd.DataFrame]) -> pd.DataFrame:
            frames = [f for f in frames if len(f)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

        return cls(
            events=cat([p.events for p in parts]),
            patients=cat([p.patients for p in parts]),
            resources=cat([p.resources for p in parts]),
            metrics=cat([p.metrics for p in parts]),
            budget=cat([p.budget for p in parts]),
        )


def _tagged(frame: pd.DataFrame, replication: int, arm: str) -> pd.DataFrame:
    frame.insert(0, "arm", arm)
    frame.insert(0, "replication", replication)
    return frame


def simulate(scenario: Scenario, replication: int, draw: int = 0, events: bool = True) -> Tables:
    """Run one replication of every arm and derive its tables."""
    run = run_replication(scenario, replication, draw)
    resources = list(scenario.resources)
    horizon = scenario.run.horizon_days
    patients, series, logs, budgets = [], [], [], []
    for name, arm_run in run.arms.items():
        arm = scenario.arms[name]
        table = patients_table(run.cohort, arm_run, arm, resources, horizon)
        table = pd.concat([table, clinical_course(scenario, arm, run.cohort, table)], axis=1)
        mine = arm_run.routed if arm_run.routed is not None else np.ones(len(table), dtype=bool)
        if scenario.economics is not None:
            starts = stage_starts(arm_run, arm, resources, horizon)
            course_ = course(scenario, arm, table, starts)
            table = pd.concat([table, evaluate(course_, scenario.economics)], axis=1)
            years = int(np.ceil(horizon / DAYS_PER_YEAR))
            spend = budget(course_.subset(mine), table["treatment_day"].to_numpy()[mine], years)
            budgets.append(_tagged(spend, replication, name))
        patients.append(_tagged(table[mine].reset_index(drop=True), replication, name))
        if scenario.comparison == "head_to_head":
            series.append(_tagged(resources_table(arm_run, resources, horizon), replication, name))
        if events:
            stages = [s.name for s in arm.stages]
            logs.append(_tagged(events_table(arm_run, stages, resources), replication, name))
    if scenario.comparison == "service_mix":  # shared resources: one series for the service
        shared = merged_run(list(run.arms.values()))
        series.append(_tagged(resources_table(shared, resources, horizon), replication, SERVICE))
    frames = [_concat(f) for f in (patients, series, logs, budgets)]
    for frame in frames:
        if "arm" in frame:
            frame["arm"] = frame["arm"].astype("category")
    p_all, r_all, e_all, b_all = frames
    metrics = replication_metrics(
        p_all, r_all, scenario.run.warmup_days, scenario.run.arrival_window_days
    )
    return Tables(events=e_all, patients=p_all, resources=r_all, metrics=metrics, budget=b_all)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_replications(
    scenario: Scenario,
    replications: int,
    workers: int = 1,
    events: bool = True,
    on_done: Callable[[int], None] | None = None,
) -> Tables:
    """All replications, in replication order whatever the number of workers."""
    parts = list(_iter_replications(scenario, replications, workers, events, on_done))
    return Tables.concat(parts)


def _iter_replications(
    scenario: Scenario,
    replications: int,
    workers: int,
    events: bool,
    on_done: Callable[[int], None] | None,
) -> Iterator[Tables]:
    if workers <= 1 or replications == 1:
        for rep in range(replications):
            yield simulate(scenario, rep, events=events)
            if on_done:
                on_done(rep)
        return
    with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
        futures = [pool.submit(simulate, scenario, rep, 0, events) for rep in range(replications)]
        for rep, future in enumerate(futures):
            yield future.result()
            if on_done:
                on_done(rep)
