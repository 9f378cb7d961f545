"""Threshold and value-based price studies: run the model at several values of one parameter.

Every value runs the same replications with the same random numbers (common random numbers), so
INMB differences between values are free of patient-level noise. A parameter is treated as linear
when INMB per replication at three values lies on a line (a price always does); its threshold is
then Fieller's, from those runs alone. Otherwise the threshold is found by root-finding, one set
of replications per evaluation. A two-way grid gives, at every pair of values (e.g. price x
willingness to pay, price x relapse hazard), the arm with the highest mean NMB and whether it is
clearly preferred: only when its paired INMB against every other arm has a confidence interval
above 0 (Bonferroni over the comparisons); otherwise the cell is "uncertain".

Values of a money parameter are in the scenario's currency and price year (a price in a GBP
scenario is in GBP, whatever the currency of its evidence); the ``unit`` column says which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartsim.decide.stats import nmb
from cartsim.decide.threshold import (
    Threshold,
    is_linear,
    linear_threshold,
    preferred,
    root_threshold,
)
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.loading import ScenarioSource
from cartsim.inputs.money_view import money_view
from cartsim.inputs.scenario import Scenario
from cartsim.runs.analyses import arm_summary
from cartsim.runs.executors import run_units
from cartsim.runs.moved import moved_arms, with_base_rows


@dataclass(frozen=True)
class ThresholdStudy:
    """What to vary and where: ``parameter`` of ``arm``, compared with every other arm."""

    parameter: str
    arm: str
    replications: int
    workers: int = 1
    scheduler: str | None = None
    level: float = 0.95


def in_own_units(source: ScenarioSource, values: dict[str, float]) -> dict[str, float]:
    """Parameter values in the scenario's money taken back to each parameter's own unit."""
    factors = source.money_factors()
    return {name: v / factors.get(name, 1.0) for name, v in values.items()}


def shown_unit(source: ScenarioSource, parameter: str) -> str:
    """The unit of ``parameter`` in the scenario's money (``GBP 2024 per day``)."""
    view = money_view(source.raw)
    return str(view.unit(parameter, source.parameters[parameter].unit))


Base = tuple[Scenario, pd.DataFrame]  # a scenario and its replication means


def replication_means(
    source: ScenarioSource,
    values: dict[str, float],
    study: ThresholdStudy,
    base: Base | None = None,
) -> pd.DataFrame:
    """``replication, arm, cost, qaly`` of the scenario with ``values`` for its parameters (money
    parameters in the scenario's currency and price year); see :func:`scenario_means`."""
    return scenario_means(source.build(in_own_units(source, values)), study, base)


def scenario_means(
    scenario: Scenario, study: ThresholdStudy, base: Base | None = None
) -> pd.DataFrame:
    """``replication, arm, cost, qaly`` of ``scenario``; with ``base``, only the arms in which it
    differs from the base scenario (:func:`cartsim.runs.moved.moved_arms`) are run again,
    the others' rows are the base's (head-to-head arms share nothing but the cohort)."""
    only = None if base is None else moved_arms(scenario, base[0])
    if base is not None and only == ():
        return base[1]
    units = [(scenario, r, 0, only) for r in range(study.replications)]
    rows = [row for _, part in run_units(arm_summary, units, study.workers, study.scheduler)
            for row in part]  # fmt: skip
    keep = ["replication", "arm", "cost", "qaly"]
    means = pd.DataFrame(rows)[keep]
    if base is not None and only:
        means = with_base_rows(means, base[1])
    return means.sort_values(keep[:2], ignore_index=True)


def inmb_by_replication(means: pd.DataFrame, arm: str, comparator: str, wtp: float) -> np.ndarray:
    """INMB of ``arm`` against ``comparator`` per replication (money per patient)."""
    net = means.assign(nmb=nmb(means["cost"], means["qaly"], wtp)).pivot(
        index="replication", columns="arm", values="nmb"
    )
    return (net[arm] - net[comparator]).to_numpy(dtype=np.float64)


def check_study(source: ScenarioSource, scenario: Scenario, study: ThresholdStudy) -> float:
    """The parameter's base value in the scenario's money; a clear error for what cannot be
    studied."""
    file = str(source.path)
    if scenario.economics is None or len(scenario.compared_arms) < 2:
        raise CartsimError("a threshold needs economics and two or more compared arms", file=file)
    if study.arm not in scenario.compared_arms:  # a rescue-only arm has no patients of its own
        known = ", ".join(scenario.compared_arms)
        raise CartsimError(f"unknown arm {study.arm!r}, or one only for rescue (compared: {known})",
                           file=file, field="--arm")  # fmt: skip
    if study.parameter not in source.parameters:
        raise CartsimError(f"unknown parameter {study.parameter!r}", file=file,
                           field="--parameter")  # fmt: skip
    if study.parameter not in source.used_parameters():
        raise CartsimError(f"parameter {study.parameter!r} is not used by the model: its "
                           "threshold is undefined", file=file, field="--parameter")  # fmt: skip
    if study.replications < 2:
        raise CartsimError("a threshold's interval needs at least 2 replications",
                           file=file, field="--replications")  # fmt: skip
    factor = source.money_factors().get(study.parameter, 1.0)
    return float(source.parameters[study.parameter].value) * factor


def threshold_table(source: ScenarioSource, study: ThresholdStudy) -> pd.DataFrame:
    """Threshold value of the parameter against each comparator, with interval and headroom.

    Columns: ``parameter, unit, arm, comparator, base_value, threshold, threshold_ci_low,
    threshold_ci_high, headroom`` (threshold minus base value, in ``unit``),
    ``inmb_base`` (money per patient at the base value), ``method, level, wtp, replications``.
    """
    scenario = source.build()
    x0 = check_study(source, scenario, study)
    assert scenario.economics is not None
    wtp = scenario.economics.wtp_per_qaly
    step = abs(x0) * 0.5 if x0 != 0.0 else 1.0
    xs = [x0, x0 + step, x0 + 2 * step]
    at_x0 = source.build(in_own_units(source, {study.parameter: x0}))
    base = (at_x0, scenario_means(at_x0, study))
    runs = [
        base[1],
        *(replication_means(source, {study.parameter: x}, study, base) for x in xs[1:]),
    ]
    low, high = bracket(source, study.parameter, x0)
    unit = shown_unit(source, study.parameter)
    rows = []
    for comparator in [a for a in scenario.compared_arms if a != study.arm]:
        inmb = np.column_stack([inmb_by_replication(r, study.arm, comparator, wtp) for r in runs])
        if is_linear(np.array(xs), inmb):
            found = linear_threshold(inmb[:, 0], (inmb[:, 1] - inmb[:, 0]) / step, x0, study.level)
        else:

            def inmb_at(x: float, c: str = comparator) -> np.ndarray:
                means = replication_means(source, {study.parameter: x}, study, base)
                return inmb_by_replication(means, study.arm, c, wtp)

            found = root_threshold(inmb_at, low, high, study.level)
        rows.append({"unit": unit, **threshold_row(study, comparator, x0, found, inmb[:, 0], wtp)})
    return pd.DataFrame(rows)


def bracket(source: ScenarioSource, parameter: str, x0: float) -> tuple[float, float]:
    """Where to look for a non-linear threshold: the one-way range, widened, else 0 to 10 x0."""
    bounds = source.parameters[parameter].sensitivity_range()
    if bounds is None:
        return (0.0, 10.0 * abs(x0) if x0 else 1.0)
    factor = source.money_factors().get(parameter, 1.0)
    lo, hi = bounds[0] * factor, bounds[1] * factor
    width = hi - lo
    return (max(lo - width, 0.0) if lo >= 0 else lo - width, hi + width)


def threshold_row(
    study: ThresholdStudy, comparator: str, x0: float, found: Threshold, inmb0: np.ndarray,
    wtp: float,
) -> dict[str, object]:  # fmt: skip
    return {
        "parameter": study.parameter,
        "arm": study.arm,
        "comparator": comparator,
        "base_value": x0,
        "threshold": found.value,
        "threshold_ci_low": found.low,
        "threshold_ci_high": found.high,
        "headroom": found.value - x0 if math.isfinite(found.value) else math.nan,
        "inmb_base": float(inmb0.mean()),
        "method": found.method,
        "level": study.level,
        "wtp": wtp,
        "replications": study.replications,
    }


def two_way_grid(
    source: ScenarioSource,
    study: ThresholdStudy,
    values: Sequence[float],
    by: str,
    by_values: Sequence[float],
) -> pd.DataFrame:
    """The preferred arm at every pair (parameter value, ``by`` value), decided with uncertainty.

    ``by`` is either ``wtp`` (willingness to pay: no new runs) or another parameter (one set of
    replications per pair). Columns: ``parameter, value, by, by_value, best_arm`` (highest mean
    NMB), ``preferred_arm`` (the best arm, or "uncertain"), ``closest_arm`` (the other arm whose
    paired INMB interval comes nearest to 0), ``inmb_closest`` with ``inmb_closest_ci_low``,
    ``inmb_closest_ci_high`` (best minus closest, money per patient), ``level`` (of each paired
    interval: Bonferroni over the comparisons with every other arm) and ``nmb_<arm>`` for every
    arm (mean NMB, money per patient).
    """
    scenario = source.build()
    assert scenario.economics is not None
    runs: dict[tuple[tuple[str, float], ...], pd.DataFrame] = {}
    first: Base | None = None
    rows = []
    for v in values:
        for b in by_values:
            settings = {study.parameter: float(v)}
            wtp = scenario.economics.wtp_per_qaly
            if by == "wtp":
                wtp = float(b)
            else:
                settings[by] = float(b)
            key = tuple(sorted(settings.items()))
            if key not in runs:
                built = source.build(in_own_units(source, settings))
                runs[key] = scenario_means(built, study, first)
                first = first or (built, runs[key])  # the others run only the arms they move
            means = runs[key]
            net = means.assign(nmb=nmb(means["cost"], means["qaly"], wtp)).pivot(
                index="replication", columns="arm", values="nmb"
            )[scenario.compared_arms]
            rows.append({"parameter": study.parameter, "value": float(v), "by": by,
                         "by_value": float(b), **preferred(net, study.level),
                         **{f"nmb_{arm}": float(x) for arm, x in net.mean().items()}})  # fmt: skip
    return pd.DataFrame(rows)
