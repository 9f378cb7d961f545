"""Two scenarios side by side over the same replications (common random numbers).

Each scenario gives per-replication values ``replication, arm, metric, period, value``; the
comparison is each scenario's mean with its t-interval, and for what both report, the paired
difference (second minus first) per replication with its t-interval: with the same seed and
replications the two runs meet the same patients, so pairing removes their shared noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartsim.decide.stats import mean_ci, paired_difference_ci

KEYS = ["arm", "metric", "period"]
COLUMNS = [*KEYS, "scenario", "mean", "ci_low", "ci_high", "n_replications"]


def difference_label(first: str, second: str) -> str:
    return f"{second} - {first}"


def _ci(values: np.ndarray, level: float) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    return mean_ci(values, level) if values.size else (np.nan, np.nan, np.nan)


def side_by_side(samples: dict[str, pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """``arm, metric, period, scenario, mean, ci_low, ci_high, n_replications`` of each of two
    scenarios, and (scenario ``second - first``) their paired difference where both report
    the measure in the same replications."""
    (first, a), (second, b) = samples.items()
    rows = []
    for name, frame in samples.items():
        for key, group in frame.groupby(KEYS, sort=False):
            values = group["value"].to_numpy(dtype=float)
            rows.append((*key, name, *_ci(values, level), int(np.isfinite(values).sum())))
    left = a.set_index([*KEYS, "replication"])["value"]
    right = b.set_index([*KEYS, "replication"])["value"]
    both = pd.concat({"a": left, "b": right}, axis=1, join="inner").dropna()
    label = difference_label(first, second)
    for key, group in both.groupby(level=KEYS, sort=False):
        diff = paired_difference_ci(group["b"].to_numpy(), group["a"].to_numpy(), level)
        rows.append((*key, label, *diff, len(group)))
    return pd.DataFrame(rows, columns=COLUMNS)
