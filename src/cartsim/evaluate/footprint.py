"""Capacity footprint: the time each resource is held per patient treated, per replication and arm.

A resource's use is the area under its in-use series (unit-days: a chair held 4 hours is 1/6 of
a unit-day; a ward bed held through an ICU stay counts both beds). An arm's use includes the
rescue journeys its relapsing patients take in its environment, so it is the footprint of
choosing that arm first. The denominator is the patients the arm treated first over the whole
run (warm-up included, like the use), so ``<resource>_days_per_treated`` reads "days of that
resource this choice takes per patient it treats".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TREATED = "treated_whole_run"
SUFFIX = "_days_per_treated"


def footprint_metrics(resources: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Long rows ``replication, arm, metric, value``: patients treated first over the whole run
    (count) and, per resource, unit-days held per patient treated (days; NaN with none treated).

    ``resources`` is the run's daily series (``in_use`` is each day's mean units in use, so its
    sum over days is unit-days), ``patients`` the run's patients (all referred).
    """
    keys = ["replication", "arm"]
    treated = (
        patients.assign(arm=patients["arm"].astype(str))
        .assign(value=np.isfinite(patients["treatment_day"].to_numpy(dtype=float)))
        .groupby(keys, sort=False)["value"]
        .sum()
        .astype(float)
    )
    summed = resources.groupby([*keys, "resource"], observed=True, sort=False)["in_use"].sum()
    summed = summed.rename(index=str, level="arm").rename(index=str, level="resource")
    use = summed.unstack("resource").fillna(0.0).reindex(treated.index, fill_value=0.0)
    count = treated.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        per = use.to_numpy() / count[:, None]
    per[count == 0] = np.nan
    wide = pd.DataFrame(per, index=treated.index, columns=[f"{r}{SUFFIX}" for r in use.columns])
    wide.insert(0, TREATED, count)
    long = wide.reset_index().melt(id_vars=keys, var_name="metric", value_name="value")
    return long.sort_values("replication", kind="stable", ignore_index=True)
