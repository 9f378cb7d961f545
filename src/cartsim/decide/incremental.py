"""Fully incremental and pairwise cost-effectiveness analysis over paired replications.

Input: a long table ``replication, arm, cost, qaly`` -- per-replication mean cost and mean QALYs
per patient; replications are paired across arms (common random numbers). Arms keep their order
of first appearance wherever an order is needed (ties). ICERs are ``delta_cost / delta_qaly`` in
money per QALY; intervals are paired t intervals (:mod:`cartsim.decide.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cartsim.decide.samples import FloatArray, arm_index, check_wtp, cost_order, wide
from cartsim.decide.stats import check_level, mean_ci, nmb, paired_difference_ci, with_ci

STATUS_REFERENCE = "reference"
STATUS_NON_DOMINATED = "non-dominated"
STATUS_DOMINATED = "dominated"
STATUS_EXTENDEDLY_DOMINATED = "extendedly dominated"
PAIR = ("intervention", "comparator")
INCREMENTS = (
    *("delta_cost", "delta_cost_ci_low", "delta_cost_ci_high"),
    *("delta_qaly", "delta_qaly_ci_low", "delta_qaly_ci_high"),
    *("icer", "quadrant", "inmb", "inmb_ci_low", "inmb_ci_high"),
)
PAIRWISE_COLUMNS = [*PAIR, *INCREMENTS]  # the columns of :func:`pairwise_table`, in order


def _icer(delta_cost: float, delta_qaly: float) -> float:
    return delta_cost / delta_qaly if delta_qaly != 0.0 else math.nan


def _frontier(
    mean_cost: FloatArray, mean_qaly: FloatArray
) -> tuple[list[int], list[str], list[int | None]]:
    """Efficiency frontier on arm means.

    Returns the frontier (arm indices by increasing cost), each arm's status and each arm's
    comparator index (``None`` for the reference or an undominated-by-frontier arm).
    """
    k = mean_cost.size
    order = cost_order(mean_cost, mean_qaly)
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
    lv = check_level(level)
    w = check_wtp(wtp)
    arms, cost, qaly = wide(summary, "replication")
    mean_cost = cost.mean(axis=0)
    mean_qaly = qaly.mean(axis=0)
    order = cost_order(mean_cost, mean_qaly)
    ref = order[0] if reference is None else arm_index(arms, reference, "reference")
    _, status, comparator = _frontier(mean_cost, mean_qaly)
    net = nmb(cost, qaly, w)

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
                **with_ci("cost", c),
                **with_ci("qaly", q),
                "comparator": arms[comp] if comp is not None else math.nan,
                **with_ci("delta_cost", dc),
                **with_ci("delta_qaly", dq),
                "icer": icer,
                "status": status[j],
                **with_ci("nmb", nb),
                "reference": arms[ref],
                **with_ci("inmb", inb),
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
    lv = check_level(level)
    w = check_wtp(wtp)
    arms, cost, qaly = wide(summary, "replication")
    if pairs is None:
        order = cost_order(cost.mean(axis=0), qaly.mean(axis=0))
        ref = order[0] if reference is None else arm_index(arms, reference, "reference")
        index_pairs = [(j, ref) for j in range(len(arms)) if j != ref]
    else:
        index_pairs = []
        for a, b in pairs:
            ia = arm_index(arms, a, "intervention")
            ib = arm_index(arms, b, "comparator")
            if ia == ib:
                raise ValueError(f"cannot compare arm {a!r} with itself")
            index_pairs.append((ia, ib))
    net = nmb(cost, qaly, w)

    rows: list[dict[str, Any]] = []
    for ia, ib in index_pairs:
        dc = paired_difference_ci(cost[:, ia], cost[:, ib], lv)
        dq = paired_difference_ci(qaly[:, ia], qaly[:, ib], lv)
        inb = paired_difference_ci(net[:, ia], net[:, ib], lv)
        rows.append(
            {
                "intervention": arms[ia],
                "comparator": arms[ib],
                **with_ci("delta_cost", dc),
                **with_ci("delta_qaly", dq),
                "icer": _icer(dc[0], dq[0]),
                "quadrant": _quadrant(dc[0], dq[0]),
                **with_ci("inmb", inb),
            }
        )
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


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
