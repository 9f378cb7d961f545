"""Whole studies: a run of replications, and sensitivity studies run in resumable chunks.

Each study returns its tables; the command line only parses options, shows progress and writes
files. A study's plan (scenario digest and options) is stored with its chunks, so ``resume``
refuses to mix the work of two different studies.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartsim.decide.budget_impact import budget_impact
from cartsim.decide.capacity import UNCLEAR, decide, judge, run_verdicts
from cartsim.decide.head_to_head import incremental_results
from cartsim.decide.severity import severity_results
from cartsim.decide.stats import summarise
from cartsim.evaluate.footprint import footprint_metrics
from cartsim.evaluate.kpis import check_targets, period_metrics, site_metrics
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.money_view import money_view
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.sites import network_rows
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.runs.analyses import (
    capacity_cost,
    dsa_unit,
    dsa_variants,
    finish_dsa,
    finish_psa,
    finish_sweep,
    parse_vary,
    psa_unit,
    sweep_grid,
    sweep_unit,
    unpriced_resources,
    variant_scenario,
)
from cartsim.runs.experiment import SERVICE, Tables, run_replications
from cartsim.runs.jobs import Rows, run_chunked
from cartsim.runs.moved import moved_arms, with_base_rows


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
    apply events, budget, the capacity footprint per patient treated (head to head) and (head
    to head with economics) the incremental analysis and the
    net budget impact against the reference arm."""
    frames = {
        "patients": tables.patients,
        "resources": tables.resources,
        "kpis": summarise(tables.metrics),
        "metrics": tables.metrics,
    }
    if len(tables.events):
        frames["events"] = tables.events
    by_year = period_metrics(tables.patients, scenario.run.warmup_days, scenario.run.start_date)
    if len(by_year):
        frames["kpis_by_year"] = period_kpis(by_year)
    if scenario.planning_targets:
        frames["targets"] = run_verdicts(
            frames["kpis"], frames.get("kpis_by_year"), scenario.planning_targets
        )
    if scenario.sites:
        used, legs = network_rows(scenario)
        frames["site_resources"] = pd.DataFrame(used)
        if legs:
            frames["transport_legs"] = pd.DataFrame(legs)
    if "site" in tables.patients:
        by_site = site_metrics(tables.patients, scenario.run.warmup_days, scenario.run.start_date)
        frames["kpis_by_site"] = period_kpis(by_site, keys=("site", "period_kind", "period"))
    if len(tables.budget):
        frames["budget"] = with_capacity_costs(tables.budget, scenario)
    if scenario.comparison == "head_to_head" and len(tables.resources):
        frames["footprint"] = summarise(footprint_metrics(tables.resources, tables.patients))
    economics = scenario.economics
    if economics is not None and scenario.comparison == "head_to_head" and len(scenario.arms) > 1:
        patients = tables.patients
        settled = patients[patients["arrival_day"] >= scenario.run.warmup_days]  # as the KPIs
        frames["incremental"] = incremental_results(
            settled, economics.wtp_per_qaly, economics.reference_arm
        )
        if len(tables.budget):
            frames["budget_impact"] = budget_impact(tables.budget, economics.reference_arm)
        if economics.severity_modifier:
            frames.update(severity_results(scenario, settled))
    return frames


def period_kpis(
    metrics: pd.DataFrame, level: float = 0.95, keys: tuple[str, ...] = ("period_kind", "period")
) -> pd.DataFrame:
    """``arm, period_kind, period, metric, mean, ci_low, ci_high, n_replications``: the per-year
    measures of :func:`cartsim.evaluate.kpis.period_metrics` with t-intervals over replications
    (with ``keys`` ``site, period_kind, period``: per site, :func:`~cartsim.evaluate.kpis.
    site_metrics`)."""
    frames = []
    for values, group in metrics.groupby(list(keys), sort=True):
        table = summarise(group.drop(columns=list(keys)), level)
        for k, (key, value) in enumerate(zip(keys, values, strict=True)):
            table.insert(1 + k, key, int(str(value)) if key == "period" else str(value))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def with_capacity_costs(budget: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The budget with the fixed cost of the service's limited capacity (``capacity`` ×
    ``cost_per_unit_per_year``, EUR a year, prorated over a last part year of the run) as the
    category ``cost_fixed_capacity`` of rows of the arm ``service``, one per replication and
    year. Nothing is added when no capacity has a cost."""
    yearly = capacity_cost(scenario)
    if yearly <= 0:
        return budget
    years = np.unique(budget["year"].to_numpy())
    covered = np.clip(scenario.run.horizon_days / DAYS_PER_YEAR - years, 0.0, 1.0)
    rows = pd.DataFrame(
        [
            {"replication": rep, "arm": SERVICE, "year": int(year), "cost_fixed_capacity": cost}
            for rep in pd.unique(budget["replication"])
            for year, cost in zip(years, yearly * covered, strict=True)
        ]
    )
    rows["calendar_year"] = scenario.run.start_date.year + rows["year"]
    rows["patients_treated"] = 0
    rows["cost_total"] = rows["cost_fixed_capacity"]
    out = pd.concat([budget.astype({"arm": str}), rows], ignore_index=True)
    costs = [c for c in out.columns if c.startswith("cost_")]
    out[costs] = out[costs].fillna(0.0)
    columns = [c for c in budget.columns if c != "cost_total"]
    return out[[*columns, "cost_fixed_capacity", "cost_total"]]


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
    if scenario.economics is None or len(scenario.compared_arms) < 2:
        raise CartsimError(
            "one-way sensitivity needs economics and two or more compared arms",
            file=str(source.path),
        )


def dsa(source: loading.ScenarioSource, scenario: Scenario, run: Execution) -> pd.DataFrame:
    """One-way sensitivity of incremental net monetary benefit over every parameter range.

    A parameter that leaves the model unchanged (not used by it) is not run again: its results
    are the base case's, so its range has zero width (one no field refers to is not even
    built). One that changes only some head-to-head arms (:func:`moved_arms`) runs only
    those: the others' results are the base case's.
    """
    check_dsa(source, scenario)
    reps = scenario.run.replications
    every = dsa_variants(source)
    built, runs, used = {}, {}, set(source.used_parameters())
    for variant in every[1:]:
        moved = variant_scenario(source, variant) if variant.parameter in used else scenario
        runs[variant] = moved_arms(moved, scenario)
        if runs[variant] != ():
            built[variant] = moved  # held for its units; the same model's is not
    variants = [every[0], *built]
    units = [(i, built.get(v, scenario), r, runs.get(v)) for i, v in enumerate(variants)
             for r in range(reps)]  # fmt: skip
    plan = _plan(source, analysis="dsa", replications=reps, arms="moved")
    results = _run("dsa", plan, dsa_unit, units, run)
    by_index = dict(list(results.groupby("variant")))
    per_variant = {v: by_index[i].drop(columns="variant") for i, v in enumerate(variants)}
    base = per_variant[every[0]]
    for variant in every:
        own = per_variant.setdefault(variant, base)
        if runs.get(variant):  # the arms not run: the base case's rows
            per_variant[variant] = with_base_rows(own, base)
    return dsa_in_scenario_money(finish_dsa(per_variant, source, scenario), source)


def dsa_in_scenario_money(table: pd.DataFrame, source: loading.ScenarioSource) -> pd.DataFrame:
    """A table with one row per ``parameter``: its ``unit``, ``low_value`` and ``high_value``
    and amounts quoted in its ``description`` shown in the scenario's currency and price year
    (:mod:`cartsim.inputs.money_view`)."""
    if not len(table):
        return table
    view = money_view(source.raw)
    out = table.copy()
    names = out["parameter"].astype(str)
    out["unit"] = [view.unit(p, u) for p, u in zip(names, out["unit"], strict=True)]
    out["description"] = [view.text(d) for d in out["description"]]
    for column in ("low_value", "high_value"):
        out[column] = [view.value(p, v) for p, v in zip(names, out[column], strict=True)]
    return out


def sweep_settings(
    vary: list[str], source: loading.ScenarioSource, scenario: Scenario
) -> list[dict[str, str]]:
    """The full grid of ``--vary dotted.path=v1,v2`` settings; the targets checked as well."""
    if not vary:
        raise CartsimError("give at least one --vary dotted.path=v1,v2", field="--vary")
    try:
        grid = sweep_grid(parse_vary(vary))
    except ValueError as exc:
        raise CartsimError(str(exc), field="--vary") from None
    check_targets(source, scenario)
    return grid


def sweep_scenarios(path: Path, overrides: list[str], grid: list[dict[str, str]]) -> list[Scenario]:
    """The scenario of every setting of a grid (checked before anything runs)."""
    return [
        loading.load(path, overrides, [f"{k}={v}" for k, v in setting.items()]).build()
        for setting in grid
    ]


@dataclass(frozen=True)
class Decision:
    """How a sweep decides: the confidence level of its intervals and the replication cap."""

    confidence: float = 0.95
    max_replications: int | None = None  # default: no more than the scenario's


def sweep(
    source: loading.ScenarioSource,
    scenarios: list[Scenario],
    grid: list[dict[str, str]],
    run: Execution,
    decision: Decision = Decision(),
) -> dict[str, pd.DataFrame]:
    """KPIs of every setting of a full grid with intervals across replications (``sweep``), and
    with planning targets the verdict of each setting on each (``sweep_targets``) and on all
    (``sweep_decision``, with the chosen setting).

    A setting whose verdict is unclear (an interval straddles a target) is run again with twice
    its replications, up to ``max_replications``, until it is clear or the cap is reached. The
    replications added are the next ones of the same streams, so the result does not depend on
    how the work was split.
    """
    reps = scenarios[0].run.replications
    cap = max(reps, decision.max_replications or reps)
    targets = scenarios[0].planning_targets
    done = dict.fromkeys(range(len(scenarios)), reps)
    units = [(s, i, r) for i, s in enumerate(scenarios) for r in range(reps)]
    plan = _plan(source, analysis="sweep", grid=grid, replications=reps, max_replications=cap,
                 confidence=decision.confidence)  # fmt: skip
    parts = [_run("sweep", plan, sweep_unit, units, run)]
    total = len(units)
    for round_ in itertools.count(1):
        table = finish_sweep(pd.concat(parts, ignore_index=True), grid, scenarios,
                             decision.confidence)  # fmt: skip
        if not targets:
            return {"sweep": table}
        judged = judge(table, targets)
        verdicts = decide(table, judged, done, cap)
        more = verdicts.loc[verdicts["verdict"] == UNCLEAR, "setting_id"].tolist()
        if not more:
            return {"sweep": table, "sweep_targets": judged, "sweep_decision": verdicts}
        units = []
        for number in more:
            n = min(cap, 2 * done[number])
            units += [(scenarios[number], number, r) for r in range(done[number], n)]
            done[number] = n
        total += len(units)
        step = Execution(**{**run.__dict__, "started": None})
        if run.started:
            run.started(total)
        parts.append(_run(f"sweep-more{round_}", {**plan, "round": round_, "settings": more},
                          sweep_unit, units, step))  # fmt: skip
    raise AssertionError("unreachable")


def unpriced(grid: list[dict[str, str]], scenario: Scenario) -> list[str]:
    """Resources the grid varies that have no capacity cost (ties then go by capacity only)."""
    return unpriced_resources(grid, scenario)


def best_setting(decision: pd.DataFrame | None) -> pd.Series | None:
    """The chosen setting of a sweep (smallest capacity meeting every target), or None."""
    if decision is None or not decision["chosen"].any():
        return None
    return decision[decision["chosen"]].iloc[0]
