"""Replications of a scenario, run serially or in local processes; identical either way.

A unit of work is (scenario, parameter draw, replication): its random streams come from those
alone, so results do not depend on the executor or the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartsim.engine.eventlog import codes_to_categorical
from cartsim.engine.model import ReplicationRun, merged_run, run_replication
from cartsim.evaluate.derive import patients_frame, resource_series, resources_table
from cartsim.evaluate.kpis import metric_rows, resource_metrics
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.sites import all_resources
from cartsim.runs.arm_results import ArmResult, run_results
from cartsim.runs.executors import run_units

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
        return cls(
            events=stacked([p.events for p in parts]),
            patients=stacked([p.patients for p in parts]),
            resources=stacked([p.resources for p in parts]),
            metrics=stacked([p.metrics for p in parts]),
            budget=stacked([p.budget for p in parts]),
        )


def stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of the frames that have any, one after another (none: an empty frame)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _tagged(frame: pd.DataFrame, replication: int, arm: str, arms: list[str]) -> pd.DataFrame:
    """``frame`` with ``replication`` and ``arm`` (a categorical of every arm) in front."""
    codes = np.full(len(frame), arms.index(arm), dtype=np.int32)
    frame.insert(0, "arm", pd.Series(codes_to_categorical(codes, arms), index=frame.index))
    frame.insert(0, "replication", replication)
    return frame


def service_series(scenario: Scenario, run: ReplicationRun) -> dict[str, np.ndarray]:
    """Service mix: the shared resources' series over all arms together."""
    merged = merged_run(list(run.arms.values()))
    return resource_series(merged, list(all_resources(scenario)), scenario.run.horizon_days)


def simulate(
    scenario: Scenario,
    replication: int,
    draw: int = 0,
    events: bool = True,
    detail: bool = True,
    only: Collection[str] | None = None,
) -> Tables:
    """Run one replication of every arm (head-to-head, ``only``: of the arms named) and derive
    its tables; ``arm`` is a categorical of every compared arm either way.

    ``detail=False`` keeps only the patients and KPI tables (no event log, daily resource
    series or budget).
    """
    run = run_replication(scenario, replication, draw, only)
    return derived_tables(scenario, run, events, detail)


def simulate_each(
    scenarios: list[Scenario],
    replication: int,
    draw: int = 0,
    events: bool = True,
    detail: bool = True,
    only: Collection[str] | None = None,
) -> list[Tables]:
    """:func:`simulate` of each scenario, the first's simulation serving them all: they may
    differ only in what the simulation does not read (:func:`cartsim.runs.moved.same_simulation`:
    money and the economic evaluation)."""
    run = run_replication(scenarios[0], replication, draw, only)
    return [derived_tables(scenario, run, events, detail) for scenario in scenarios]


def derived_tables(scenario: Scenario, run: ReplicationRun, events: bool, detail: bool) -> Tables:
    """The tables of one simulated replication, its patients evaluated under ``scenario``."""
    replication = run.replication
    resources = list(all_resources(scenario))
    results = run_results(scenario, run, detail, events)
    series = {name: r.series for name, r in results.items() if r.series is not None}
    metrics = [metric_rows(replication, name, r.measures) for name, r in results.items()]
    if scenario.comparison == "service_mix":
        series[SERVICE] = service_series(scenario, run)
        warmup, window = scenario.run.warmup_days, scenario.run.arrival_window_days
        service = resource_metrics(series[SERVICE], resources, warmup, window)
        metrics.append(metric_rows(replication, SERVICE, service))

    arms = [*scenario.compared_arms, *([SERVICE] if SERVICE in series else [])]

    def tagged(frames: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
        return _concat(
            [_tagged(f, replication, n, arms) for n, f in frames.items() if f is not None]
        )

    patients = tagged(
        {
            n: patients_frame(r.columns, scenario.diseases, tuple(scenario.sites))
            for n, r in results.items()
        }
    )
    return Tables(
        events=tagged({n: r.events for n, r in results.items()}),
        patients=no_cost_missing(patients),
        resources=tagged(
            {n: resources_table(s, resources) for n, s in series.items()} if detail else {}
        ),
        metrics=_concat(metrics),
        budget=tagged({n: r.spend for n, r in results.items()}),
    )


def no_cost_missing(patients: pd.DataFrame) -> pd.DataFrame:
    """``patients`` with 0 for a cost category an arm does not have (another arm's)."""
    costs = [c for c in patients.columns if c.startswith("cost_")]
    patients[costs] = patients[costs].fillna(0.0)
    return patients


def arm_summaries(
    scenario: Scenario, replication: int, draw: int = 0, only: Collection[str] | None = None
) -> dict[str, ArmResult]:
    """Every arm's (head-to-head, ``only``: the arms named) patients and summary KPIs of one
    replication, without the tables' detail."""
    run = run_replication(scenario, replication, draw, only)
    return run_results(scenario, run, False, False, True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def run_replications(
    scenario: Scenario,
    replications: int,
    workers: int = 1,
    events: bool = True,
    on_done: Callable[[int], None] | None = None,
    scheduler: str | None = None,
) -> Tables:
    """All replications, in replication order whatever the executor and number of workers."""
    units = [(scenario, rep, 0, events) for rep in range(replications)]
    parts: dict[int, Tables] = {}
    for rep, tables in run_units(simulate, units, workers, scheduler):
        parts[rep] = tables
        if on_done:
            on_done(rep)
    return Tables.concat([parts[rep] for rep in range(replications)])
