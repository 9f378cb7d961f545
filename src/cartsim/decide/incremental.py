"""Decision analysis on simulated costs (EUR) and QALYs per patient.

Inputs are long tables with one row per sample and arm (strategy), in the style of hesim:

* ``summary``: columns ``replication, arm, cost, qaly`` -- per-replication mean cost (EUR) and
  mean QALYs per patient; replications are paired across arms (common random numbers).
* ``psa``: columns ``iteration, arm, cost, qaly`` -- one row per PSA iteration and arm.

Every sample must have exactly one row for every arm. Arms keep their order of first
appearance in the input wherever an order is needed (ties, output of ``ceac``).

Net monetary benefit is ``NMB = wtp * qaly - cost`` (EUR), with ``wtp`` the willingness to pay
in EUR per QALY. ICERs are ``delta_cost / delta_qaly`` in EUR per QALY. Confidence intervals
are two-sided t intervals over replications (``mean_ci``); with paired data they are computed
on the per-replication differences (``paired_difference_ci``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "ceac",
    "evpi",
    "incremental_table",
    "mean_ci",
    "nmb",
    "paired_difference_ci",
    "pairwise_table",
]

FloatArray = NDArray[np.float64]

STATUS_REFERENCE = "reference"
STATUS_NON_DOMINATED = "non-dominated"
STATUS_DOMINATED = "dominated"
STATUS_EXTENDEDLY_DOMINATED = "extendedly dominated"


# ---------------------------------------------------------------------------------------------
# Basic statistics
# ---------------------------------------------------------------------------------------------


def _with_ci(name: str, estimate: tuple[float, float, float]) -> dict[str, float]:
    """``name``, ``name_ci_low`` and ``name_ci_high`` from a (mean, low, high) triple."""
    mean, low, high = estimate
    return {name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high}


def _check_level(level: float) -> float:
    lv = float(level)
    if not 0.0 < lv < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level!r}")
    return lv


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
    lv = _check_level(level)
    arr = np.asarray(x, dtype=np.float64).ravel()
    n = arr.size
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(np.mean(arr))
    if n == 1:
        return mean, math.nan, math.nan
    sd = float(np.std(arr, ddof=1))
    half = float(special.stdtrit(n - 1, 0.5 + lv / 2.0)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


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


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def _wide(data: pd.DataFrame, sample_col: str) -> tuple[list[Hashable], FloatArray, FloatArray]:
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


def _check_wtp(wtp: float) -> float:
    w = float(wtp)
    if not math.isfinite(w):
        raise ValueError(f"wtp must be finite, got {wtp!r}")
    return w


def _cost_order(mean_cost: FloatArray, mean_qaly: FloatArray) -> list[int]:
    """Arm indices by increasing mean cost, then decreasing QALYs, then input order."""
    return sorted(range(mean_cost.size), key=lambda i: (mean_cost[i], -mean_qaly[i], i))


def _arm_index(arms: list[Hashable], arm: Hashable, what: str) -> int:
    try:
        return arms.index(arm)
    except ValueError:
        raise ValueError(f"{what} {arm!r} is not one of the arms {arms}") from None


def _icer(delta_cost: float, delta_qaly: float) -> float:
    return delta_cost / delta_qaly if delta_qaly != 0.0 else math.nan


# ---------------------------------------------------------------------------------------------
# Fully incremental analysis
# ---------------------------------------------------------------------------------------------


def _frontier(
    mean_cost: FloatArray, mean_qaly: FloatArray
) -> tuple[list[int], list[str], list[int | None]]:
    """Efficiency frontier on arm means.

    Returns the frontier (arm indices by increasing cost), each arm's status and each arm's
    comparator index (``None`` for the reference or an undominated-by-frontier arm).
    """
    k = mean_cost.size
    order = _cost_order(mean_cost, mean_qaly)
    rank = {arm: pos for pos, arm in enumerate(order)}

    def dominates(i: int, j: int) -> bool:
        # Weak dominance: no more costly and at least as effective, strictly better in one;
        # of two identical arms the one earlier in cost order dominates the other.
        if mean_cost[i] > mean_cost[j] or mean_qaly[i] < mean_qaly[j]:
            return False
        if mean_cost[i] < mean_cost[j] or mean_qaly[i] > mean_qaly[j]:
            return True
        return rank[i] < rank[j]

    dominated = [any(dominates(i, j) for i in range(k) if i != j) for j in range(k)]
    frontier = [j for j in order if not dominated[j]]

    # Extended dominance: ICERs must not decrease along the frontier. Drop the first arm whose
    # ICER exceeds that of the next arm and repeat until none is left. Collinear arms (equal
    # consecutive ICERs) are kept.
    while True:
        icers = [
            (mean_cost[frontier[p]] - mean_cost[frontier[p - 1]])
            / (mean_qaly[frontier[p]] - mean_qaly[frontier[p - 1]])
            for p in range(1, len(frontier))
        ]
        drop = next((p for p in range(len(icers) - 1) if icers[p] > icers[p + 1]), None)
        if drop is None:
            break
        del frontier[drop + 1]

    on_frontier = set(frontier)
    status: list[str] = [""] * k
    comparator: list[int | None] = [None] * k
    for pos, j in enumerate(frontier):
        status[j] = STATUS_REFERENCE if pos == 0 else STATUS_NON_DOMINATED
        comparator[j] = None if pos == 0 else frontier[pos - 1]
    for j in range(k):
        if j in on_frontier:
            continue
        if dominated[j]:
            status[j] = STATUS_DOMINATED
            # The most effective (= most costly) frontier arm that dominates j, if any.
            doms = [i for i in frontier if dominates(i, j)]
            comparator[j] = doms[-1] if doms else None
        else:
            status[j] = STATUS_EXTENDEDLY_DOMINATED
            # The next cheaper frontier arm (always exists: the reference is cheaper).
            cheaper = [i for i in frontier if rank[i] < rank[j]]
            comparator[j] = cheaper[-1]
    return frontier, status, comparator


def incremental_table(
    summary: pd.DataFrame,
    wtp: float,
    reference: str | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fully incremental cost-effectiveness analysis over replications.

    The efficiency frontier is built on the arm means: arms are sorted by mean cost (ties:
    more QALYs first, then input order); dominated arms (no less costly and no more
    effective than another arm, strictly worse in one; the later of two identical arms) are
    removed; then extendedly dominated arms are removed one at a time until ICERs strictly
    increase or stay equal along the frontier (collinear arms remain on the frontier). Each
    frontier arm is compared with the previous frontier arm.

    Parameters
    ----------
    summary : pandas.DataFrame
        Long table with columns ``replication, arm, cost, qaly``: mean cost (EUR) and mean
        QALYs per patient for each replication and arm, paired across arms.
    wtp : float
        Willingness to pay in EUR per QALY (for NMB and INMB only; the frontier does not
        depend on it).
    reference : str, optional
        Arm against which ``inmb`` is computed. Default: the least costly arm (by mean cost).
    level : float, default 0.95
        Confidence level of the t intervals.

    Returns
    -------
    pandas.DataFrame
        One row per arm, sorted by mean cost (as above), with columns:

        ``arm``; ``cost``, ``cost_ci_low``, ``cost_ci_high`` (EUR); ``qaly``,
        ``qaly_ci_low``, ``qaly_ci_high`` (QALYs) -- replication means and CIs;
        ``comparator`` -- previous frontier arm for frontier and extendedly dominated arms,
        the most effective frontier arm that dominates a dominated arm (NaN if none), NaN for
        the first frontier arm; ``delta_cost``, ``delta_cost_ci_low``,
        ``delta_cost_ci_high`` (EUR) and ``delta_qaly``, ``delta_qaly_ci_low``,
        ``delta_qaly_ci_high`` (QALYs) -- mean paired differences vs ``comparator``;
        ``icer`` (EUR/QALY) -- ``delta_cost / delta_qaly`` for non-dominated frontier arms,
        NaN otherwise; ``status`` -- ``"reference"`` (first, least costly frontier arm),
        ``"non-dominated"``, ``"dominated"`` or ``"extendedly dominated"``; ``nmb``,
        ``nmb_ci_low``, ``nmb_ci_high`` (EUR) at ``wtp``; ``reference`` -- the INMB reference
        arm; ``inmb``, ``inmb_ci_low``, ``inmb_ci_high`` (EUR) -- mean paired NMB difference
        vs ``reference``.
    """
    lv = _check_level(level)
    w = _check_wtp(wtp)
    arms, cost, qaly = _wide(summary, "replication")
    mean_cost = cost.mean(axis=0)
    mean_qaly = qaly.mean(axis=0)
    order = _cost_order(mean_cost, mean_qaly)
    ref = order[0] if reference is None else _arm_index(arms, reference, "reference")
    _, status, comparator = _frontier(mean_cost, mean_qaly)
    net = w * qaly - cost

    rows: list[dict[str, Any]] = []
    nan3 = (math.nan, math.nan, math.nan)
    for j in order:
        c = mean_ci(cost[:, j], lv)
        q = mean_ci(qaly[:, j], lv)
        comp = comparator[j]
        if comp is None:
            dc, dq = nan3, nan3
        else:
            dc = paired_difference_ci(cost[:, j], cost[:, comp], lv)
            dq = paired_difference_ci(qaly[:, j], qaly[:, comp], lv)
        icer = _icer(dc[0], dq[0]) if status[j] == STATUS_NON_DOMINATED else math.nan
        nb = mean_ci(net[:, j], lv)
        inb = paired_difference_ci(net[:, j], net[:, ref], lv)
        rows.append(
            {
                "arm": arms[j],
                **_with_ci("cost", c),
                **_with_ci("qaly", q),
                "comparator": arms[comp] if comp is not None else math.nan,
                **_with_ci("delta_cost", dc),
                **_with_ci("delta_qaly", dq),
                "icer": icer,
                "status": status[j],
                **_with_ci("nmb", nb),
                "reference": arms[ref],
                **_with_ci("inmb", inb),
            }
        )
    return pd.DataFrame(rows)


def pairwise_table(
    summary: pd.DataFrame,
    wtp: float,
    pairs: Sequence[tuple[str, str]] | None = None,
    *,
    reference: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Pairwise comparisons of interventions with comparators over paired replications.

    Parameters
    ----------
    summary : pandas.DataFrame
        Long table with columns ``replication, arm, cost, qaly`` (EUR, QALYs per patient).
    wtp : float
        Willingness to pay in EUR per QALY.
    pairs : sequence of (intervention, comparator), optional
        Comparisons to make. Default: every other arm vs ``reference``.
    reference : str, optional
        Comparator for the default ``pairs``; default the least costly arm (by mean cost).
    level : float, default 0.95
        Confidence level of the t intervals.

    Returns
    -------
    pandas.DataFrame
        One row per pair with columns ``intervention``, ``comparator``; ``delta_cost``,
        ``delta_cost_ci_low``, ``delta_cost_ci_high`` (EUR); ``delta_qaly``,
        ``delta_qaly_ci_low``, ``delta_qaly_ci_high`` (QALYs); ``icer`` (EUR/QALY,
        ``delta_cost / delta_qaly`` of the means, NaN if ``delta_qaly == 0``); ``quadrant``
        of the cost-effectiveness plane -- ``"NE"`` (more QALYs, more costly), ``"SE"``
        (intervention dominant: no fewer QALYs, no more cost), ``"NW"`` (intervention
        dominated: no more QALYs, no less cost), ``"SW"`` (fewer QALYs, less costly) or
        ``"origin"`` (no difference); ``inmb``, ``inmb_ci_low``, ``inmb_ci_high`` (EUR).
        A negative ICER is only interpretable together with ``quadrant``.
    """
    lv = _check_level(level)
    w = _check_wtp(wtp)
    arms, cost, qaly = _wide(summary, "replication")
    if pairs is None:
        order = _cost_order(cost.mean(axis=0), qaly.mean(axis=0))
        ref = order[0] if reference is None else _arm_index(arms, reference, "reference")
        index_pairs = [(j, ref) for j in range(len(arms)) if j != ref]
    else:
        index_pairs = []
        for a, b in pairs:
            ia = _arm_index(arms, a, "intervention")
            ib = _arm_index(arms, b, "comparator")
            if ia == ib:
                raise ValueError(f"cannot compare arm {a!r} with itself")
            index_pairs.append((ia, ib))
    net = w * qaly - cost

    rows: list[dict[str, Any]] = []
    for ia, ib in index_pairs:
        dc = paired_difference_ci(cost[:, ia], cost[:, ib], lv)
        dq = paired_difference_ci(qaly[:, ia], qaly[:, ib], lv)
        inb = paired_difference_ci(net[:, ia], net[:, ib], lv)
        rows.append(
            {
                "intervention": arms[ia],
                "comparator": arms[ib],
                **_with_ci("delta_cost", dc),
                **_with_ci("delta_qaly", dq),
                "icer": _icer(dc[0], dq[0]),
                "quadrant": _quadrant(dc[0], dq[0]),
                **_with_ci("inmb", inb),
            }
        )
    columns = [
        "intervention",
        "comparator",
        "delta_cost",
        "delta_cost_ci_low",
        "delta_cost_ci_high",
        "delta_qaly",
        "delta_qaly_ci_low",
        "delta_qaly_ci_high",
        "icer",
        "quadrant",
        "inmb",
        "inmb_ci_low",
        "inmb_ci_high",
    ]
    return pd.DataFrame(rows, columns=columns)


def _quadrant(delta_cost: float, delta_qaly: float) -> str:
    if delta_cost == 0.0 and delta_qaly == 0.0:
        return "origin"
    if delta_qaly > 0.0 and delta_cost > 0.0:
        return "NE"
    if delta_qaly < 0.0 and delta_cost < 0.0:
        return "SW"
    if delta_qaly >= 0.0 and delta_cost <= 0.0:
        return "SE"
    return "NW"


# ---------------------------------------------------------------------------------------------
# Probabilistic sensitivity analysis
# ---------------------------------------------------------------------------------------------


def _wtp_grid(wtp_grid: ArrayLike) -> FloatArray:
    grid = np.atleast_1d(np.asarray(wtp_grid, dtype=np.float64))
    if grid.ndim != 1:
        raise ValueError("wtp_grid must be one-dimensional")
    if not np.isfinite(grid).all():
        raise ValueError("wtp_grid must be finite")
    return grid


def ceac(psa: pd.DataFrame, wtp_grid: ArrayLike) -> pd.DataFrame:
    """Cost-effectiveness acceptability curves and frontier.

    Parameters
    ----------
    psa : pandas.DataFrame
        Long table with columns ``iteration, arm, cost, qaly`` (EUR, QALYs per patient).
    wtp_grid : array_like
        Willingness-to-pay values in EUR per QALY.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per ``wtp`` (grid order) and arm (input order), with columns
        ``wtp`` (EUR/QALY); ``arm``; ``probability_cost_effective`` -- share of iterations in
        which the arm has the highest NMB, where an exact tie between arms splits the
        iteration evenly among them, so probabilities sum to 1 at each ``wtp``;
        ``expected_nmb`` (EUR) -- mean NMB over iterations; ``on_frontier`` -- True for the
        arm with the highest expected NMB (acceptability frontier; exact ties go to the first
        arm in input order), exactly one arm per ``wtp``.
    """
    grid = _wtp_grid(wtp_grid)
    arms, cost, qaly = _wide(psa, "iteration")
    n_arm = len(arms)
    prob = np.empty((grid.size, n_arm))
    expected = np.empty((grid.size, n_arm))
    for g, w in enumerate(grid):
        net = w * qaly - cost  # (n_iter, n_arm)
        is_max = net == net.max(axis=1, keepdims=True)
        prob[g] = (is_max / is_max.sum(axis=1, keepdims=True)).mean(axis=0)
        expected[g] = net.mean(axis=0)
    best = expected.argmax(axis=1)
    frontier = np.zeros((grid.size, n_arm), dtype=bool)
    frontier[np.arange(grid.size), best] = True
    return pd.DataFrame(
        {
            "wtp": np.repeat(grid, n_arm),
            "arm": arms * grid.size,
            "probability_cost_effective": prob.ravel(),
            "expected_nmb": expected.ravel(),
            "on_frontier": frontier.ravel(),
        }
    )


def evpi(psa: pd.DataFrame, wtp_grid: ArrayLike, population: float = 1.0) -> pd.DataFrame:
    """Expected value of perfect information.

    ``EVPI(wtp) = E[max_arm NMB] - max_arm E[NMB]``, computed as the mean opportunity loss
    of the arm with the highest expected NMB, so it is never negative and exactly 0 when that
    arm has the highest NMB in every iteration.

    Parameters
    ----------
    psa : pandas.DataFrame
        Long table with columns ``iteration, arm, cost, qaly`` (EUR, QALYs per patient).
    wtp_grid : array_like
        Willingness-to-pay values in EUR per QALY.
    population : float, default 1.0
        Number of patients (e.g. discounted incident population) the decision affects.

    Returns
    -------
    pandas.DataFrame
        Columns ``wtp`` (EUR/QALY), ``evpi_per_patient`` (EUR) and ``evpi_population``
        (EUR, ``evpi_per_patient * population``), one row per grid value.
    """
    grid = _wtp_grid(wtp_grid)
    pop = float(population)
    if not math.isfinite(pop) or pop < 0.0:
        raise ValueError(f"population must be finite and >= 0, got {population!r}")
    _, cost, qaly = _wide(psa, "iteration")
    per_patient = np.empty(grid.size)
    for g, w in enumerate(grid):
        net = w * qaly - cost
        best = int(net.mean(axis=0).argmax())
        per_patient[g] = float(np.mean(net.max(axis=1) - net[:, best]))
    return pd.DataFrame(
        {"wtp": grid, "evpi_per_patient": per_patient, "evpi_population": per_patient * pop}
    )
