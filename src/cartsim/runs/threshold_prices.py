"""Threshold prices of several products against one comparator, for ``cartsim run``.

For each arm of the scenario's ``threshold_prices``, its price parameter is set to three values
(the base value, 1.5 and 2 times it) and the arm and the comparator are run on the same
replications (common random numbers; only those two arms and the arms their relapsing patients
are referred to, which changes nothing for them, since head-to-head arms share no resources).
The threshold is then found with the threshold study's machinery (:mod:`cartsim.runs.threshold`):
Fieller's interval when INMB per replication is linear in the price (a price that is charged a
fixed number of times is), root-finding otherwise. A price raises the cost of every arm that
charges it, rescue treatments included, and the threshold accounts for that.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cartsim.decide.threshold import Threshold, is_linear, linear_threshold, root_threshold
from cartsim.inputs.loading import ScenarioSource
from cartsim.inputs.scenario import Scenario
from cartsim.runs.threshold import (
    Base,
    ThresholdStudy,
    bracket,
    check_study,
    in_own_units,
    inmb_by_replication,
    scenario_means,
    shown_unit,
    threshold_row,
)


def kept_arms(scenario: Scenario, arms: list[str]) -> list[str]:
    """``arms`` and every arm their relapsing patients are referred to, in scenario order."""
    wanted = set(arms)
    for name in arms:
        wanted |= {rule.arm for rule in scenario.arms[name].on_relapse}
    return [name for name in scenario.arms if name in wanted]


def pair_scenario(
    source: ScenarioSource, values: dict[str, float], study: ThresholdStudy, against: str
) -> Scenario:
    """The scenario at ``values`` (money parameters in the scenario's currency and price year)
    with only ``study.arm``, ``against`` and the arms they refer relapsing patients to."""
    full = source.build(in_own_units(source, values))
    keep = kept_arms(full, [study.arm, against])
    return full.model_copy(update={"arms": {name: full.arms[name] for name in keep}})


def threshold_prices(
    source: ScenarioSource,
    scenario: Scenario,
    workers: int = 1,
    scheduler: str | None = None,
    on_arm: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per arm of ``threshold_prices``: the columns of
    :func:`cartsim.runs.threshold.threshold_table` (``parameter, arm, comparator, base_value,
    threshold, threshold_ci_low, threshold_ci_high, headroom, inmb_base, method, level, wtp,
    replications``; money of the scenario's currency and price year)."""
    spec, economics = scenario.threshold_prices, scenario.economics
    assert spec is not None and economics is not None
    wtp, against, rows = economics.wtp_per_qaly, spec.against, []
    for arm, parameter in spec.prices.items():
        study = ThresholdStudy(parameter, arm, scenario.run.replications, workers, scheduler)
        x0 = check_study(source, scenario, study)
        step = abs(x0) * 0.5 if x0 != 0.0 else 1.0
        xs = [x0, x0 + step, x0 + 2 * step]
        at_x0 = pair_scenario(source, {parameter: x0}, study, against)
        base = (at_x0, scenario_means(at_x0, study))  # the others run only the arm priced
        runs = [base[1], *(scenario_means(pair_scenario(source, {parameter: x}, study, against),
                                          study, base) for x in xs[1:])]  # fmt: skip
        inmb = np.column_stack([inmb_by_replication(r, arm, against, wtp) for r in runs])
        found = _threshold(source, study, against, wtp, np.array(xs), inmb, base)
        row = threshold_row(study, against, x0, found, inmb[:, 0], wtp)
        rows.append({"unit": shown_unit(source, parameter), **row})
        if on_arm is not None:
            on_arm(arm)
    return pd.DataFrame(rows)


def _threshold(
    source: ScenarioSource,
    study: ThresholdStudy,
    against: str,
    wtp: float,
    xs: np.ndarray,
    inmb: np.ndarray,
    base: Base,
) -> Threshold:
    """Fieller's threshold when INMB is linear in the price, else root-finding."""
    x0, step = float(xs[0]), float(xs[1] - xs[0])
    if is_linear(xs, inmb):
        return linear_threshold(inmb[:, 0], (inmb[:, 1] - inmb[:, 0]) / step, x0, study.level)

    def inmb_at(x: float) -> np.ndarray:
        means = scenario_means(pair_scenario(source, {study.parameter: x}, study, against),
                               study, base)  # fmt: skip
        return inmb_by_replication(means, study.arm, against, wtp)

    low, high = bracket(source, study.parameter, x0)
    return root_threshold(inmb_at, low, high, study.level)
