"""Whole studies: a run of replications, and sensitivity studies run in resumable chunks.

Each study returns its tables; the command line only parses options, shows progress and writes
files. A study's plan (scenario digest and options) is stored with its chunks, so ``resume``
refuses to mix the work of two different studies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.decide.head_to_head import incremental_results
from cartsim.decide.severity import severity_results
from cartsim.decide.stats import summarise
from cartsim.evaluate.kpis import check_metric
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.scenario import Scenario
from cartsim.runs.analyses import (
    cheapest_meeting_target,
    dsa_unit,
    dsa_variants,
    finish_dsa,
    finish_psa,
    finish_sweep,
    parse_vary,
    psa_unit,
    same_model,
    sweep_grid,
    sweep_unit,
)
from cartsim.runs.experiment import Tables, run_replications
from cartsim.runs.jobs import Rows, run_chunked


@dataclass
class Execution:
    """Where and how a study runs, and whom to tell about progress."""

    folder: Path
    workers: int = 1
    scheduler: str | None = None
    resume: bool = False
    chunk_size: int = 50
    started: Callable[[int], None] | None = None  # told the number of units
    on_unit: Callable[[], None] | None = None


def run(
    scenario: Scenario,
    workers: int = 1,
    events: bool = True,
    on_done: Callable[[int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every replication of ``scenario``: the run's tables by name (see :func:`run_tables`)."""
    reps = scenario.run.replications
    tables = run_replications(scenario, reps, workers=workers, events=events, on_done=on_done)
    return run_tables(scenario, tables)


def run_tables(scenario: Scenario, tables: Tables) -> dict[str, pd.DataFrame]:
    """The tables a run writes: patients, resources, KPIs with 95% CIs, metrics, and when they
    apply events, budget and (head to head with economics) the incremental analysis."""
    frames = {
        "patients": tables.patients,
        "resources": tables.resources,
        "kpis": summarise(tables.metrics),
        "metrics": tables.metrics,
    }
    if len(tables.events):
        frames["events"] = tables.events
    if len(tables.budget):
        frames["budget"] = tables.budget
    economics = scenario.economics
    if economics is not None and scenario.comparison == "head_to_head" and len(scenario.arms) > 1:
        patients = tables.patients
        settled = patients[patients["arrival_day"] >= scenario.run.warmup_days]  # as the KPIs
        frames["incremental"] = incremental_results(
            settled, economics.wtp_per_qaly, economics.reference_arm
        )
        if economics.severity_modifier:
            frames.update(severity_results(scenario, settled))
    return frames


def _plan(source: loading.ScenarioSource, **options: Any) -> dict[str, Any]:
    text = json.dumps(source.raw, sort_keys=True, default=str)
    return {"scenario_sha256": hashlib.sha256(text.encode()).hexdigest(), **options}


def _run(
    name: str,
    plan: dict[str, Any],
    func: Callable[..., Rows],
    units: list[tuple[Any, ...]],
    run: Execution,
    shared: tuple[Any, ...] = (),
) -> pd.DataFrame:
    if run.started:
        run.started(len(units))
    return run_chunked(
        run.folder, name, plan, func, units, run.chunk_size, run.workers, run.scheduler,
        run.resume, run.on_unit, shared,
    )  # fmt: skip


def psa(
    source: loading.ScenarioSource,
    scenario: Scenario,
    iterations: int,
    replications: int,
    run: Execution,
) -> dict[str, pd.DataFrame]:
    """Probabilistic sensitivity analysis: ``psa``, and ``ceac`` and ``evpi`` with economics."""
    units = [(i, r) for i in range(iterations) for r in range(replications)]
    plan = _plan(source, analysis="psa", iterations=iterations, replications=replications)
    results = _run("psa", plan, psa_unit, units, run, shared=(source,))
    return finish_psa(results, scenario, source)


def check_dsa(source: loading.ScenarioSource, scenario: Scenario) -> None:
    """Refuse, before anything is written, a scenario one-way sensitivity cannot compare."""
    if scenario.economics is None or len(scenario.arms) < 2:
        raise CartsimError(
            "one-way sensitivity needs economics and two or more arms", file=str(source.path)
        )


def dsa(source: loading.ScenarioSource, scenario: Scenario, run: Execution) -> pd.DataFrame:
    """One-way sensitivity of incremental net monetary benefit over every parameter range.

    A parameter that leaves the model unchanged (not used by it) is not run again: its results
    are the base case's, so its range has zero width.
    """
    check_dsa(source, scenario)
    reps = scenario.run.replications
    variants = [v for v in dsa_variants(source) if not same_model(source, v, scenario)]
    units = [(i, v, r) for i, v in enumerate(variants) for r in range(reps)]
    results = _run("dsa", _plan(source, analysis="dsa", replications=reps), dsa_unit, units, run,
                   shared=(source,))  # fmt: skip
    by_index = dict(list(results.groupby("variant")))
    per_variant = {v: by_index[i].drop(columns="variant") for i, v in enumerate(variants)}
    for variant in dsa_variants(source):
        per_variant.setdefault(variant, per_variant[variants[0]])
    return finish_dsa(per_variant, source, scenario)


def sweep_settings(
    vary: list[str], source: loading.ScenarioSource, scenario: Scenario
) -> list[dict[str, str]]:
    """The full grid of ``--vary dotted.path=v1,v2`` settings; the target checked as well."""
    if not vary:
        raise CartsimError("give at least one --vary dotted.path=v1,v2", field="--vary")
    try:
        grid = sweep_grid(parse_vary(vary))
    except ValueError as exc:
        raise CartsimError(str(exc), field="--vary") from None
    if scenario.target is not None:
        check_metric(scenario.target.metric, scenario, source.path)
    return grid


def sweep_scenarios(path: Path, overrides: list[str], grid: list[dict[str, str]]) -> list[Scenario]:
    """The scenario of every setting of a grid (checked before anything runs)."""
    return [
        loading.load(path, [*overrides, *(f"{k}={v}" for k, v in setting.items())]).build()
        for setting in grid
    ]


def sweep(
    source: loading.ScenarioSource,
    scenarios: list[Scenario],
    grid: list[dict[str, str]],
    run: Execution,
) -> pd.DataFrame:
    """KPIs of every setting of a full grid, with 95% CIs across replications."""
    reps = scenarios[0].run.replications
    units = [(s, i, r) for i, s in enumerate(scenarios) for r in range(reps)]
    plan = _plan(source, analysis="sweep", grid=grid, replications=reps)
    metrics = _run("sweep", plan, sweep_unit, units, run)
    return finish_sweep(metrics, grid, scenarios)


def best_setting(table: pd.DataFrame, scenario: Scenario) -> pd.Series | None:
    """The setting of a sweep with the lowest capacity cost that meets the target, or None."""
    return cheapest_meeting_target(table, scenario)
