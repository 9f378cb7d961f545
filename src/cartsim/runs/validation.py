"""``cartsim validate``: run a scenario and compare it with the external validation targets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cartsim.decide.validation import Target, validation_table
from cartsim.evaluate.survival import Cohort, Measure, share_by_replication
from cartsim.inputs.scenario import Scenario
from cartsim.runs.experiment import run_replications


def target_values(target: Target, model: Scenario, patients: pd.DataFrame) -> np.ndarray | None:
    """The simulated value of ``target`` per replication; ``None`` when an arm is missing."""
    if any(arm not in model.arms for arm in target.arms):
        return None
    reps = int(patients["replication"].max()) + 1 if len(patients) else 0
    if model.mortality is None:
        return np.full(reps, np.nan)  # no death days: survival cannot be estimated
    horizon = model.economics.horizon_years if model.economics is not None else None
    measure: Measure = (
        "event_free_survival" if target.measure == "event_free_survival" else "overall_survival"
    )

    def shares(arm: str) -> np.ndarray:
        cohort = Cohort(arm, target.disease, target.origin, target.min_age, target.max_age)
        outcomes = model.arms[arm].outcomes
        return share_by_replication(
            patients,
            cohort,
            measure,
            target.time_days,
            warmup_days=model.run.warmup_days,
            horizon_years=horizon,
            response_model=bool(outcomes) and target.disease in outcomes,
            replications=reps,
        )

    first = shares(target.arms[0])
    if target.measure == "overall_survival_difference":
        return first - shares(target.arms[1])  # paired: common random numbers across arms
    return first


def validate_run(model: Scenario, patients: pd.DataFrame, targets: list[Target]) -> pd.DataFrame:
    """The validation table of a run's ``patients`` table: one row per target, none dropped."""
    values = {t.id: target_values(t, model, patients) for t in targets}
    table = validation_table(targets, values)
    table.insert(0, "scenario", model.name)
    return table


def run_validation(
    model: Scenario,
    targets: list[Target],
    workers: int = 1,
    on_done: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``model`` and compare it with ``targets``: (patients, validation table)."""
    tables = run_replications(
        model, model.run.replications, workers=workers, events=False, on_done=on_done
    )
    return tables.patients, validate_run(model, tables.patients, targets)
