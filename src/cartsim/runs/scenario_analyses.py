"""Scenario analyses: the base case and every named ``scenario_analyses:`` set on the same patients.

Each analysis is the scenario file read again with its overrides (after any ``--set`` of the
command line), so it is validated like the base case before anything runs. Every analysis keeps
the base case's seed and replications: the same referred patients and draws (common random
numbers), so differences between analyses come from the overrides, not from noise. Each
analysis is compared pairwise against its reference arm with paired 95% t-intervals over
replications (:func:`cartsim.decide.head_to_head.incremental_results`). Amounts a description
quotes in another currency are shown in the scenario's (:mod:`cartsim.inputs.money_view`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cartsim.decide.head_to_head import ALL, incremental_results, replication_means
from cartsim.decide.incremental import INCREMENTS, PAIR
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.money_view import money_view
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.scenario_analyses import override_text
from cartsim.runs.executors import run_units
from cartsim.runs.experiment import no_cost_missing, simulate_each, stacked
from cartsim.runs.moved import moved_arms, same_simulation, with_base_rows

BASE_CASE = "base case"
FIXED = ("run.seed", "run.replications")  # the same patients and draws in every analysis
COLUMNS = [
    *("scenario", "description", "comparison"),
    *PAIR,
    *("cost", "qaly", "comparator_cost", "comparator_qaly"),
    *INCREMENTS,
    "wtp",
]


@dataclass(frozen=True)
class Analysis:
    """One row group of the table: a name, what it changes, and its validated scenario."""

    name: str
    description: str
    scenario: Scenario


def check_comparable(scenario: Scenario, path: Path) -> None:
    """Refuse a scenario whose analyses cannot be compared: no economics or one compared arm."""
    if scenario.economics is None or len(scenario.compared_arms) < 2:
        raise CartsimError("scenario analyses need economics and two or more compared arms",
                           file=str(path))  # fmt: skip
    if scenario.comparison != "head_to_head":
        raise CartsimError("scenario analyses need comparison: head_to_head", file=str(path))
    if not scenario.scenario_analyses:
        raise CartsimError("the scenario has no scenario_analyses", file=str(path),
                           field="scenario_analyses")  # fmt: skip


def analyses(
    source: loading.ScenarioSource, base: Scenario, overrides: list[str]
) -> list[Analysis]:
    """The base case and every named analysis, each validated before anything runs."""
    check_comparable(base, source.path)
    found = [Analysis(BASE_CASE, "the scenario as given", base)]
    money = money_view(source.raw)
    for name, analysis in base.scenario_analyses.items():
        where = f"scenario_analyses.{name}"
        file, line = source.lines.get(where, (str(source.path), None))
        fixed = [p for p in analysis.set if p in FIXED]
        if fixed:
            field = f"{where}.set.{fixed[0]}"
            raise CartsimError(
                "may not change the seed or replications (every analysis runs on the base "
                "case's patients)", file, field, source.lines.get(field, (file, line))[1],
            )  # fmt: skip
        sets = [override_text(p, v) for p, v in analysis.set.items()]
        try:
            scenario = loading.load(source.path, [*overrides, *sets]).build()
            check_comparable(scenario, source.path)
        except CartsimError as exc:
            raise CartsimError(f"scenario analysis {name!r}: {exc.message}", file,
                               exc.field or where, line) from None  # fmt: skip
        found.append(Analysis(name, money.text_noted(analysis.description), scenario))
    return found


def comparisons(analysis: Analysis, patients: pd.DataFrame) -> pd.DataFrame:
    """Pairwise rows of one analysis (all patients): each arm against the reference arm."""
    scenario = analysis.scenario
    economics = scenario.economics
    assert economics is not None  # checked by check_comparable
    settled = patients[patients["arrival_day"] >= scenario.run.warmup_days]  # as the KPIs
    table = incremental_results(settled, economics.wtp_per_qaly, economics.reference_arm)
    table = table[(table["population"] == ALL) & (table["analysis"] == "pairwise")].copy()
    means = replication_means(settled).groupby("arm")[["cost", "qaly"]].mean()
    table["cost"] = means.loc[table["intervention"], "cost"].to_numpy()
    table["qaly"] = means.loc[table["intervention"], "qaly"].to_numpy()
    table["comparator_cost"] = means.loc[table["comparator"], "cost"].to_numpy()
    table["comparator_qaly"] = means.loc[table["comparator"], "qaly"].to_numpy()
    table["comparison"] = table["intervention"] + " vs " + table["comparator"]
    table["scenario"] = analysis.name
    table["description"] = analysis.description
    return table[COLUMNS].reset_index(drop=True)


def run_analyses(
    found: list[Analysis],
    workers: int = 1,
    on_done: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Run every analysis (replications of all analyses share the executor) and return one
    table: per analysis and comparison, mean costs (money of the price year, discounted) and
    QALYs, increments, ICER and INMB with paired 95% CIs.

    An analysis that changes only some arms (:func:`cartsim.runs.moved.moved_arms`, against
    the base case) runs only those; the other arms' patients are the base case's. One that
    changes only money and the economic evaluation (:func:`cartsim.runs.moved.same_simulation`)
    is evaluated on the base case's simulation.
    """
    reps = found[0].scenario.run.replications
    base_case = found[0].scenario
    only = [None, *(moved_arms(a.scenario, base_case) for a in found[1:])]
    # the base case's simulation serves the analyses that change only money and evaluation
    priced = [
        i
        for i in range(1, len(found))
        if only[i] != () and same_simulation(found[i].scenario, base_case)
    ]
    groups = [
        [0, *priced],
        *([i] for i in range(1, len(found)) if only[i] != () and i not in priced),
    ]
    keys = [(group, r) for group in groups for r in range(reps)]
    units = [([found[i].scenario for i in group], r, 0, False, False, only[group[0]])
             for group, r in keys]  # fmt: skip
    parts: dict[tuple[int, int], pd.DataFrame] = {}
    if on_done:
        for _ in range(len(found) * reps - sum(len(group) for group, _ in keys)):
            on_done()  # an analysis that is the base case's model: nothing to run
    for index, each in run_units(simulate_each, units, workers):
        group, r = keys[index]
        for i, tables in zip(group, each, strict=True):
            parts[(i, r)] = tables.patients
            if on_done:
                on_done()
    whole = {0, *priced, *(i for i in range(len(found)) if only[i] is None)}  # every arm derived
    frames = []
    for i, analysis in enumerate(found):
        patients = []
        for r in range(reps):
            mine, base = parts.get((i, r)), parts[(0, r)]
            if mine is None:  # the same model as the base case
                patients.append(base)
            else:
                patients.append(mine if i in whole else rerun_patients(mine, base))
        frames.append(comparisons(analysis, stacked(patients)))
    return pd.concat(frames, ignore_index=True)


def rerun_patients(mine: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """The base case's patients with those of the arms rerun (``mine``) in their place, rows and
    columns in the order a run of every arm gives (arm by arm: grouped means depend on the
    order of the rows), so that every figure is the same to the bit."""
    rows = with_base_rows(mine, base)
    order = np.argsort(rows["arm"].cat.codes.to_numpy(), kind="stable")
    return no_cost_missing(rows.iloc[order].reset_index(drop=True)[list(base.columns)])
