"""Statistics over replications: means with t-intervals, paired differences, net monetary benefit.

The single place for "a replication mean with its 95% confidence interval": key performance
indicators, decision tables and the report's bands all use :func:`mean_ci`. Intervals are
two-sided t intervals over replications; with paired data (common random numbers across arms)
they are computed on the per-replication differences.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special


def check_level(level: float) -> float:
    lv = float(level)
    if not 0.0 < lv < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level!r}")
    return lv


def with_ci(name: str, estimate: tuple[float, float, float]) -> dict[str, float]:
    """``name``, ``name_ci_low`` and ``name_ci_high`` from a (mean, low, high) triple."""
    mean, low, high = estimate
    return {name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high}


def mean_ci(x: ArrayLike, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of replication results with a t-based confidence interval.

    This is the single place to compute "replication mean with 95% CI".

    Parameters
    ----------
    x : array_like
        One value per replication (any unit, e.g. EUR or QALYs per patient). NaNs propagate.
    level : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(mean, low, high)`` with ``mean +/- t_{n-1, (1+level)/2} * sd / sqrt(n)``.
        With a single replication the interval is ``(nan, nan)``.

    Raises
    ------
    ValueError
        If ``x`` is empty or ``level`` is not in (0, 1).
    """
    lv = check_level(level)
    arr = np.asarray(x, dtype=np.float64).ravel()
    n = arr.size
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(np.mean(arr))
    if n == 1:
        return mean, math.nan, math.nan
    half = float(t_half_width(np.std(arr, ddof=1), n, lv))
    return mean, mean - half, mean + half


def t_half_width(sd: ArrayLike, n: ArrayLike, level: float = 0.95) -> Any:
    """Half-width ``t_{n-1, (1+level)/2} * sd / sqrt(n)`` of :func:`mean_ci`, element-wise.

    Parameters
    ----------
    sd : array_like
        Sample standard deviations (ddof=1) of the replication results.
    n : array_like
        Numbers of replications; NaN where ``n < 2``.
    level : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    float or numpy.ndarray
        Half-widths in the unit of ``sd`` (broadcast over the inputs).
    """
    lv = check_level(level)
    count = np.asarray(n, dtype=np.float64)
    df = np.where(count >= 2, count - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = special.stdtrit(df, 0.5 + lv / 2.0)
        out = t * np.asarray(sd, dtype=np.float64) / np.sqrt(count)
    return float(out) if np.ndim(out) == 0 else out


def paired_difference_ci(
    a: ArrayLike, b: ArrayLike, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean paired difference ``a - b`` with a t-based confidence interval.

    Parameters
    ----------
    a, b : array_like
        Results of two arms for the same replications (same length and order), e.g. cost in
        EUR or QALYs per patient under common random numbers.
    level : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(mean, low, high)`` of the per-replication differences ``a - b`` (see ``mean_ci``).

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in shape.
    """
    aa = np.asarray(a, dtype=np.float64)
    bb = np.asarray(b, dtype=np.float64)
    if aa.shape != bb.shape:
        raise ValueError(f"paired samples must have the same shape, got {aa.shape} and {bb.shape}")
    return mean_ci(aa - bb, level)


def nmb(cost: ArrayLike, qaly: ArrayLike, wtp: ArrayLike) -> Any:
    """Net monetary benefit ``wtp * qaly - cost``.

    Parameters
    ----------
    cost : array_like
        Cost in EUR.
    qaly : array_like
        Health outcome in QALYs.
    wtp : array_like
        Willingness to pay in EUR per QALY.

    Returns
    -------
    float or numpy.ndarray
        NMB in EUR (broadcast over the inputs; a float for scalar inputs).
    """
    out = np.asarray(wtp, dtype=np.float64) * np.asarray(qaly, dtype=np.float64) - np.asarray(
        cost, dtype=np.float64
    )
    return float(out) if out.ndim == 0 else out


def summarise(metrics: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """``arm, metric, mean, ci_low, ci_high, n_replications`` across replications."""
    rows = []
    for (arm, metric), group in metrics.groupby(["arm", "metric"], observed=True, sort=False):
        values = group["value"].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        mean, low, high = mean_ci(values, level) if values.size else (np.nan, np.nan, np.nan)
        rows.append((arm, metric, mean, low, high, int(values.size)))
    return pd.DataFrame(
        rows, columns=["arm", "metric", "mean", "ci_low", "ci_high", "n_replications"]
    )
