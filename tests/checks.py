"""Confidence-interval criteria for statistical tests that must pass for any seed.

A check compares the mean over independent replications with a known value. It fails when the
value lies outside the ``1 - ALPHA`` t-interval of the mean widened by a stated bias allowance
(warm-up from empty, a finite run): with ``ALPHA = 1e-4`` a correct model fails a check about
once in 10,000 seeds. It also fails when the 95% interval is wider than ``precision`` times the
value, so that a check with too few replications cannot pass by being vague.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

ALPHA = 1e-4


def t_half_width(values: np.ndarray, level: float) -> float:
    """Half-width of the two-sided ``level`` t-interval of the mean of ``values``."""
    n = values.size
    return float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))


def assert_mean_matches(
    values: np.ndarray | list[float],
    expected: float,
    bias: float,
    precision: float,
    what: str = "",
) -> None:
    """The replication mean of ``values`` agrees with ``expected``.

    ``bias`` and ``precision`` are relative to ``|expected|``.
    """
    x = np.asarray(values, dtype=float)
    assert x.size >= 5 and np.isfinite(x).all(), (what, x)
    mean = float(x.mean())
    half95 = t_half_width(x, 0.95)
    assert half95 <= precision * abs(expected), (
        f"{what}: too imprecise, 95% half-width {half95:.4g} > {precision:.0%} of {expected:.4g}"
    )
    allowed = t_half_width(x, 1 - ALPHA) + bias * abs(expected)
    assert abs(mean - expected) <= allowed, (
        f"{what}: mean {mean:.6g} vs theory {expected:.6g}, allowed +/-{allowed:.4g}"
    )
