"""Probabilistic sensitivity analysis, one-way sensitivity and capacity sweeps.

Each analysis is a list of work units (a parameter draw or setting, and a replication) run by
:mod:`cartsim.runs.executors`. Workers send back one small summary row per arm, never event logs, so
memory stays flat however many units there are. A unit's random numbers come from its draw and
replication alone: the tables are the same whatever the executor and number of workers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cartsim.decide.psa import ceac, evpi, noise_share
from cartsim.decide.stats import nmb, summarise
from cartsim.engine.model import ReplicationRun, run_replication
from cartsim.evaluate.kpis import SUMMARY_KPIS, period_metrics
from cartsim.inputs.loading import ScenarioSource
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.sites import all_resources, qualified
from cartsim.runs.arm_results import ArmResult, results_of
from cartsim.runs.draws import draws_in_scenario_money, parameter_draws, psa_draws
from cartsim.runs.experiment import arm_summaries, simulate
from cartsim.runs.jobs import Rows

WTP_GRID = np.arange(0.0, 200_001.0, 5_000.0)  # EUR per QALY


def arm_summary(
    scenario: Scenario, replication: int, draw: int, only: Collection[str] | None = None
) -> Rows:
    """Mean cost and QALYs per patient referred after the warm-up (as in the base case) and the
    key capacity KPIs, one row per arm (head-to-head, ``only``: per arm named)."""
    return summary_rows(scenario, replication, arm_summaries(scenario, replication, draw, only))


def summary_rows(scenario: Scenario, replication: int, results: Mapping[str, ArmResult]) -> Rows:
    """The rows of :func:`arm_summary` from the arms' results of one replication."""
    rows = []
    for name, result in results.items():
        columns = result.columns
        settled = columns["arrival_day"] >= scenario.run.warmup_days
        row: dict[str, Any] = {"replication": replication, "arm": name}
        for column, key in (("cost_total", "cost"), ("qaly_total", "qaly")):
            values = columns.get(column)
            values = values[settled] if values is not None else None
            row[key] = float(values.mean()) if values is not None and values.size else np.nan
        row.update({k: result.measures.get(k, np.nan) for k in SUMMARY_KPIS})
        row.update({k: v for k, v in result.measures.items() if k.startswith("utilisation_")})
        rows.append(row)
    return rows


class PsaUnit:
    """A PSA work unit: the parameters of draw ``iteration``, replication ``replication``; its
    rows are those of :func:`arm_summary` with the iteration in front. :meth:`many` runs a batch
    of units with the arms' courses of all valued together (:func:`results_of`): the same rows,
    at a fraction of the cost of valuing each unit's few patients alone, each unit's rows
    given as soon as its courses are valued."""

    def __call__(self, source: ScenarioSource, iteration: int, replication: int) -> Rows:
        return next(self.many(source, [(iteration, replication)]))

    def many(self, source: ScenarioSource, units: Sequence[tuple[int, int]]) -> Iterator[Rows]:
        draws = psa_draws(source)
        built: list[Scenario] = []  # each unit's scenario, for its rows

        def runs() -> Iterator[tuple[Scenario, ReplicationRun]]:  # simulated as they are taken
            for iteration, replication in units:
                built.append(draws.scenario(iteration))
                yield built[-1], run_replication(built[-1], replication, iteration)

        results = results_of(runs(), detail=False, events=False, summary=True)
        for k, arms in enumerate(results):
            iteration, replication = units[k]
            rows = summary_rows(built[k], replication, arms)
            yield [{"iteration": iteration, **row} for row in rows]


psa_unit = PsaUnit()


def finish_psa(
    units: pd.DataFrame, scenario: Scenario, source: ScenarioSource
) -> dict[str, pd.DataFrame]:
    """``psa`` (one row per iteration and arm, means over replications), the drawn
    ``psa_parameters`` (one row per iteration; money in the scenario's currency and price year),
    and with economics ``ceac``, ``evpi`` and
    ``psa_noise`` (the share of INMB spread that is patient-level noise)."""
    keys = ["iteration", "arm"]
    psa = units.drop(columns="replication").groupby(keys, sort=True).mean().reset_index()
    iterations = np.unique(psa["iteration"].to_numpy())
    draws = draws_in_scenario_money(source, parameter_draws(source, list(iterations)))
    out = {"psa": psa, "psa_parameters": draws}
    economics = scenario.economics
    if economics is not None and psa["cost"].notna().all() and psa["arm"].nunique() > 1:
        psa.insert(4, "nmb", nmb(psa["cost"], psa["qaly"], economics.wtp_per_qaly))
        population = referrals_per_year(scenario) * economics.evpi_population_years
        out["ceac"] = ceac(psa[["iteration", "arm", "cost", "qaly"]], WTP_GRID)
        out["evpi"] = evpi(psa[["iteration", "arm", "cost", "qaly"]], WTP_GRID, population)
        reference = economics.reference_arm or str(psa["arm"].iloc[0])
        out["psa_noise"] = noise_share(units, economics.wtp_per_qaly, reference)
    return out


def referrals_per_year(scenario: Scenario) -> float:
    """Expected referrals a year (the first year's rate of every disease)."""
    total = 0.0
    for demand in scenario.demand.values():
        rate = demand.rate_per_year
        total += rate[0] if isinstance(rate, list) else rate
    return total


# ---- one-way sensitivity ---------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A one-way setting: ``parameter`` at ``side`` (``low``/``high``), or the base case."""

    parameter: str | None
    side: str
    value: float | None


def dsa_variants(source: ScenarioSource) -> list[Variant]:
    """The base case and every parameter with a range at its low and its high value."""
    variants = [Variant(None, "base", None)]
    for name, parameter in source.parameters.items():
        bounds = parameter.sensitivity_range()
        if bounds is not None:
            variants += [Variant(name, "low", bounds[0]), Variant(name, "high", bounds[1])]
    return variants


def dsa_unit(
    index: int, scenario: Scenario, replication: int, only: tuple[str, ...] | None = None
) -> Rows:
    """Mean cost and QALYs per arm (``only``: per arm named) of variant ``index`` (``scenario``:
    one parameter moved; common random numbers)."""
    keep = ("replication", "arm", "cost", "qaly")
    rows = arm_summary(scenario, replication, draw=0, only=only)
    return [{"variant": index, **{k: row[k] for k in keep}} for row in rows]


def variant_scenario(source: ScenarioSource, variant: Variant) -> Scenario:
    """The scenario with the variant's parameter moved (the base case's when none is)."""
    if variant.parameter is None:
        return source.build({})
    assert variant.value is not None  # a range end
    return source.build({variant.parameter: variant.value})


def mean_inmb(summaries: list[pd.DataFrame], wtp: float, reference: str) -> pd.DataFrame:
    """Mean incremental net monetary benefit (money) of each arm (a column; ``reference`` left
    out) against ``reference``, for each summary (a row each, in order): the mean over
    replications of the difference within each replication. All summaries at once."""
    frame = pd.concat(summaries, keys=range(len(summaries)), names=["summary", "row"])
    frame = frame.reset_index("summary", drop=False).reset_index(drop=True)
    frame["nmb"] = nmb(frame["cost"], frame["qaly"], wtp)
    wide = frame.pivot_table(
        index=["summary", "replication"], columns="arm", values="nmb", dropna=False
    )
    difference = wide.sub(wide[reference], axis=0)
    means = difference.groupby(level="summary").mean().drop(columns=reference)
    return means.reindex(range(len(summaries)))  # a summary without a number: a row of NaN


def finish_dsa(
    results: Mapping[Variant, pd.DataFrame], source: ScenarioSource, scenario: Scenario
) -> pd.DataFrame:
    """Tornado table: incremental NMB of each arm against the reference at each range end."""
    assert scenario.economics is not None
    wtp = scenario.economics.wtp_per_qaly
    reference = scenario.economics.reference_arm or scenario.compared_arms[0]
    distinct = {id(r): r for r in results.values()}  # a summary shared by variants: once
    rows_of = {key: k for k, key in enumerate(distinct)}
    means = mean_inmb(list(distinct.values()), wtp, reference)
    by_variant = {v: means.iloc[rows_of[id(r)]] for v, r in results.items()}
    base = by_variant[Variant(None, "base", None)]
    rows = []
    for name, parameter in source.parameters.items():
        found = {v.side: (v, by_variant[v]) for v in results if v.parameter == name}
        if not found:
            continue
        (low_variant, low), (high_variant, high) = found["low"], found["high"]
        for arm in base.index:
            rows.append(
                {
                    "parameter": name,
                    "description": parameter.description,
                    "unit": parameter.unit,
                    "comparison": f"{arm} vs {reference}",
                    "low_value": low_variant.value,
                    "high_value": high_variant.value,
                    "inmb_base": base[arm],
                    "inmb_low": low[arm],
                    "inmb_high": high[arm],
                }
            )
    table = pd.DataFrame(rows)
    if len(table):
        table["width"] = (table["inmb_high"] - table["inmb_low"]).abs()
        table = table.sort_values(["comparison", "width"], ascending=[True, False])
    return table.reset_index(drop=True)


# ---- capacity sweeps -------------------------------------------------------------------------


MAX_GRID = 10_000  # settings of one sweep


def parse_vary(assignments: list[str]) -> list[tuple[str, list[str]]]:
    """``["a.b=1,2", "c=x,y"]`` → ``[("a.b", ["1", "2"]), ("c", ["x", "y"])]``.

    Each path may be varied once, each value given once; paths must name existing fields, which
    loading the scenario of each setting checks.
    """
    out: list[tuple[str, list[str]]] = []
    for text in assignments:
        if "=" not in text:
            raise ValueError(f"--vary expects dotted.path=v1,v2,..., got {text!r}")
        path, values = text.split("=", 1)
        items = [v.strip() for v in values.split(",")]
        if not path.strip() or not all(items):
            raise ValueError(
                f"--vary expects dotted.path=v1,v2,... with no empty value, got {text!r}"
            )
        if len(set(items)) < len(items):
            raise ValueError(f"--vary {path.strip()}: a value is repeated in {values!r}")
        if path.strip() in [p for p, _ in out]:
            raise ValueError(f"--vary {path.strip()}: the same path is varied twice")
        out.append((path.strip(), items))
    return out


def sweep_grid(vary: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the varied values (a full grid, at most MAX_GRID settings)."""
    size = math.prod(len(v) for _, v in vary)
    if size > MAX_GRID:
        raise ValueError(f"--vary gives {size:,} settings, more than {MAX_GRID:,}")
    paths = [p for p, _ in vary]
    return [
        dict(zip(paths, combo, strict=True)) for combo in itertools.product(*(v for _, v in vary))
    ]


def sweep_unit(scenario: Scenario, setting_id: int, replication: int) -> Rows:
    """KPIs of one setting and replication (long: metric, value per arm), pooled and per year of
    referral (``referral_year``, see :func:`cartsim.evaluate.kpis.period_metrics`)."""
    tables = simulate(scenario, replication, detail=False)
    rows = tables.metrics.to_dict("records")
    run = scenario.run
    years = period_metrics(tables.patients, run.warmup_days, run.start_date, ("referral_year",))
    years = years.drop(columns="period_kind").rename(columns={"period": "referral_year"})
    rows += years.to_dict("records")
    return [{"setting_id": setting_id, **{str(k): v for k, v in row.items()}} for row in rows]


def capacity_cost(scenario: Scenario) -> float:
    """Fixed yearly cost of all limited capacity (EUR a year)."""
    return sum(
        r.capacity * r.cost_per_unit_per_year
        for r in all_resources(scenario).values()
        if r.capacity != "unlimited"
    )


def total_capacity(scenario: Scenario) -> int:
    """Units of all limited resources together, every site's included (count)."""
    every = all_resources(scenario).values()
    return sum(r.capacity for r in every if r.capacity != "unlimited")


def typed(value: str) -> int | float | str:
    """A grid value as the number it spells (``"2"`` → 2, ``"0.5"`` → 0.5), else the text."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def grid_order(settings: list[dict[str, str]]) -> list[int]:
    """Setting numbers sorted by their values, numbers as numbers (2 before 10), text last."""

    def key(number: int) -> tuple[tuple[int, float, str], ...]:
        out = []
        for value in map(typed, settings[number].values()):
            text = isinstance(value, str)
            out.append((int(text), 0.0 if text else float(value), str(value) if text else ""))
        return tuple(out)

    return sorted(range(len(settings)), key=key)


def grid_columns(settings: list[dict[str, str]]) -> dict[str, list[int | float | str]]:
    """Each varied path's values per setting, numeric when every value of the path is a number."""
    out: dict[str, list[int | float | str]] = {}
    for path in settings[0] if settings else {}:
        values = [typed(s[path]) for s in settings]
        out[path] = (
            values if not any(isinstance(v, str) for v in values) else [s[path] for s in settings]
        )
    return out


def finish_sweep(
    metrics: pd.DataFrame,
    settings: list[dict[str, str]],
    scenarios: list[Scenario],
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per setting, arm and metric (pooled, then per ``referral_year``) with the mean and
    its ``level`` t-interval across replications; settings in grid order, values typed."""
    if "referral_year" not in metrics:
        metrics = metrics.assign(referral_year=np.nan)
    columns = grid_columns(settings)
    frames = []
    groups = dict(list(metrics.groupby("setting_id", sort=True)))
    for number in grid_order(settings):
        if number not in groups:
            continue
        group = groups[number]
        for year, part in group.groupby("referral_year", sort=True, dropna=False):
            table = summarise(part.drop(columns=["setting_id", "referral_year"]), level)
            table.insert(0, "referral_year", year)
            table.insert(0, "setting", ", ".join(f"{k}={v}" for k, v in settings[number].items()))
            table.insert(0, "setting_id", number)
            for path, values in columns.items():
                table[path] = values[number]
            table["capacity"] = total_capacity(scenarios[number])
            table["capacity_cost_per_year"] = capacity_cost(scenarios[number])
            frames.append(table)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    pooled = out["referral_year"].isna()
    return pd.concat([out[pooled], out[~pooled]], ignore_index=True)


def unpriced_resources(settings: list[dict[str, str]], scenario: Scenario) -> list[str]:
    """Resources whose capacity the grid varies but that have no ``cost_per_unit_per_year``."""
    names = set()
    for path in settings[0] if settings else {}:
        parts = path.split(".")
        if parts[0] == "resources":
            names.add(parts[1])
        elif parts[0] == "sites" and len(parts) > 3 and parts[2] == "resources":
            names.add(qualified(parts[1], parts[3]))
    every = all_resources(scenario)
    return sorted(n for n in names if n in every and every[n].cost_per_unit_per_year == 0)
