"""Threshold values: where incremental net monetary benefit (INMB) crosses zero.

Two ways, both on paired replications (common random numbers):

* a parameter that enters INMB linearly (a price): per replication ``r``,
  ``INMB_r(x) = a_r + k_r (x - x0)``, from runs at two values of ``x``. The threshold is
  ``x* = x0 - mean(a) / mean(k)`` and its confidence interval is Fieller's interval for that ratio
  (Fieller, J R Stat Soc B 1954;16:175; as used for ICERs by Willan & O'Brien, Health Econ
  1996;5:297): the values of ``x`` at which the t-interval of mean INMB(x) contains 0;
* any other parameter: ``scipy.optimize.brentq`` on the mean INMB over a bracket, and on the
  two bounds of its t-interval for the confidence interval.

Where a two-way analysis names the preferred arm, :func:`preferred` names it only when its
paired INMB against every other arm is clearly above 0, else :data:`UNCERTAIN`.

Money is in the scenario's currency and price year; ``x`` is in the parameter's own unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

from cartsim.decide.stats import check_level, mean_ci, paired_difference_ci

UNCERTAIN = "uncertain"  # no arm is clearly better than every other


@dataclass(frozen=True)
class Threshold:
    """A threshold value with its confidence interval (NaN or +-inf where it does not close)."""

    value: float
    low: float
    high: float
    method: str


def is_linear(x: ArrayLike, inmb: ArrayLike, rtol: float = 1e-9) -> bool:
    """Whether INMB per replication (rows) at three or more values ``x`` (columns) is linear."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.atleast_2d(np.asarray(inmb, dtype=np.float64))
    design = np.column_stack([np.ones_like(xs), xs])
    coef, *_ = np.linalg.lstsq(design, ys.T, rcond=None)
    residual = np.abs(design @ coef - ys.T).max()
    scale = max(float(np.abs(ys).max()), 1.0)
    return bool(residual <= rtol * scale)


def linear_threshold(a: ArrayLike, k: ArrayLike, x0: float, level: float = 0.95) -> Threshold:
    """Fieller threshold for ``INMB_r(x) = a_r + k_r (x - x0)`` over paired replications.

    Parameters
    ----------
    a : array_like
        INMB per replication at ``x0`` (money per patient).
    k : array_like
        Change of INMB per unit of ``x``, per replication (money per patient per unit of ``x``).
    x0 : float
        The value of the parameter at which ``a`` was measured.
    level : float
        Two-sided confidence level.
    """
    aa = np.asarray(a, dtype=np.float64)
    kk = np.asarray(k, dtype=np.float64)
    if aa.shape != kk.shape or aa.ndim != 1:
        raise ValueError("a and k must be one value per replication each")
    lv = check_level(level)
    n = aa.size
    a_bar, k_bar = float(aa.mean()), float(kk.mean())
    value = x0 - a_bar / k_bar if k_bar != 0.0 else math.nan
    if n < 2:
        return Threshold(value, math.nan, math.nan, "linear (Fieller)")
    t2 = float(special.stdtrit(n - 1, 0.5 + lv / 2.0)) ** 2
    cov = np.cov(np.vstack([aa, kk]), ddof=1) / n  # covariance of the two means
    # mean INMB at x0 + d is a_bar + k_bar d with variance s_aa + 2 d s_ak + d^2 s_kk; the
    # interval holds the d where (a_bar + k_bar d)^2 <= t2 * variance
    qa = k_bar**2 - t2 * cov[1, 1]
    qb = 2.0 * (a_bar * k_bar - t2 * cov[0, 1])
    qc = a_bar**2 - t2 * cov[0, 0]
    disc = qb * qb - 4.0 * qa * qc
    if qa <= 0.0 or disc < 0.0:  # the slope is not clearly non-zero: the interval is unbounded
        return Threshold(value, -math.inf, math.inf, "linear (Fieller)")
    root = math.sqrt(disc)
    d1, d2 = sorted(((-qb - root) / (2.0 * qa), (-qb + root) / (2.0 * qa)))
    return Threshold(value, x0 + d1, x0 + d2, "linear (Fieller)")


def root_threshold(
    inmb_at: Callable[[float], ArrayLike], low: float, high: float, level: float = 0.95
) -> Threshold:
    """Threshold of a parameter that enters INMB non-linearly, by root-finding on a bracket.

    ``inmb_at(x)`` returns INMB per replication at ``x`` (the same replications, so common
    random numbers, at every ``x``). The threshold is where the mean crosses 0 in
    ``[low, high]``; its interval is where the upper and the lower bound of the t-interval
    cross 0. A bound that does not cross 0 inside the bracket is reported as the bracket's end
    beyond which it lies, as -inf or +inf. Evaluations are cached.
    """
    lv = check_level(level)
    cache: dict[float, tuple[float, float, float]] = {}

    def ci(x: float) -> tuple[float, float, float]:
        if x not in cache:
            cache[x] = mean_ci(np.asarray(inmb_at(x), dtype=np.float64), lv)
        return cache[x]

    def crossing(which: int) -> float:
        f_low, f_high = ci(low)[which], ci(high)[which]
        if f_low == 0.0:
            return low
        if f_low * f_high > 0 or math.isnan(f_low * f_high):
            return math.nan
        return float(
            optimize.brentq(lambda x: ci(x)[which], low, high, xtol=1e-10 * (1 + abs(high)))
        )

    value = crossing(0)
    ends = sorted(c for c in (crossing(1), crossing(2)) if not math.isnan(c))
    if math.isnan(value):
        return Threshold(math.nan, math.nan, math.nan, "root-finding")
    lo = ends[0] if ends and ends[0] <= value else -math.inf
    hi = ends[-1] if ends and ends[-1] >= value else math.inf
    return Threshold(value, lo, hi, "root-finding")


def preferred(net: pd.DataFrame, level: float = 0.95) -> dict[str, object]:
    """The best arm of NMB per replication (rows) and arm (columns), and how sure that is.

    The arm with the highest mean is preferred only if its paired INMB against every other arm
    has an interval (at ``level``, Bonferroni over the comparisons) wholly above 0; otherwise
    the result is :data:`UNCERTAIN`. Returns ``best_arm`` (highest mean), ``preferred_arm``,
    ``closest_arm`` (the other arm whose interval has the lowest lower bound), ``inmb_closest``
    with ``inmb_closest_ci_low`` and ``inmb_closest_ci_high`` (best minus closest) and
    ``level`` (of each interval).
    """
    if net.shape[1] < 2:
        raise ValueError("a preferred arm needs two or more arms")
    means = net.mean()
    best = str(means.idxmax())
    others = [str(a) for a in net.columns if a != best]
    each = 1.0 - (1.0 - level) / max(len(others), 1)
    cis = {a: paired_difference_ci(net[best], net[a], each) for a in others}
    closest = min(others, key=lambda a: cis[a][1] if math.isfinite(cis[a][1]) else -math.inf)
    mean, low, high = cis[closest]
    clear = all(math.isfinite(ci[1]) and ci[1] > 0.0 for ci in cis.values())
    return {"best_arm": best, "preferred_arm": best if clear else UNCERTAIN,
            "closest_arm": closest, "inmb_closest": mean, "inmb_closest_ci_low": low,
            "inmb_closest_ci_high": high, "level": each}  # fmt: skip
