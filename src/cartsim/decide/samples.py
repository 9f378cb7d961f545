"""Long tables of samples (replications or PSA iterations) per arm, as matrices.

Inputs are long tables with one row per sample and arm, in the style of hesim: columns
``<sample>, arm, cost, qaly`` (cost in the scenario's currency, QALYs per patient). Every
sample must have exactly one row for every arm; arms keep their order of first appearance.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def wide(data: pd.DataFrame, sample_col: str) -> tuple[list[Hashable], FloatArray, FloatArray]:
    """Pivot a long ``sample_col, arm, cost, qaly`` table to (n_sample, n_arm) matrices."""
    required = [sample_col, "arm", "cost", "qaly"]
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise ValueError(f"input table lacks column(s) {missing}; needs {required}")
    if len(data) == 0:
        raise ValueError("input table is empty")
    arm_codes, arm_values = pd.factorize(data["arm"], sort=False)
    sample_codes, sample_values = pd.factorize(data[sample_col], sort=True)
    if (arm_codes < 0).any() or (sample_codes < 0).any():
        raise ValueError(f"arm and {sample_col} must not be missing")
    n_arm, n_sample = len(arm_values), len(sample_values)
    cell = sample_codes.astype(np.int64) * n_arm + arm_codes
    if np.unique(cell).size != cell.size:
        raise ValueError(f"more than one row for some ({sample_col}, arm) pair")
    if cell.size != n_arm * n_sample:
        raise ValueError(f"every {sample_col} must have exactly one row for every arm")
    values = data[["cost", "qaly"]].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("cost and qaly must be finite")
    cost = np.empty((n_sample, n_arm))
    qaly = np.empty((n_sample, n_arm))
    cost[sample_codes, arm_codes] = values[:, 0]
    qaly[sample_codes, arm_codes] = values[:, 1]
    return list(arm_values), cost, qaly


def check_wtp(wtp: float) -> float:
    w = float(wtp)
    if not math.isfinite(w):
        raise ValueError(f"wtp must be finite, got {wtp!r}")
    return w


def cost_order(mean_cost: FloatArray, mean_qaly: FloatArray) -> list[int]:
    """Arm indices by increasing mean cost, then decreasing QALYs, then input order."""
    return sorted(range(mean_cost.size), key=lambda i: (mean_cost[i], -mean_qaly[i], i))


def arm_index(arms: list[Hashable], arm: Hashable, what: str) -> int:
    try:
        return arms.index(arm)
    except ValueError:
        raise ValueError(f"{what} {arm!r} is not one of the arms {arms}") from None
