"""Summaries of a probabilistic sensitivity analysis: acceptability curves and EVPI.

Input: a long table ``iteration, arm, cost, qaly`` (one row per PSA iteration and arm; cost in
the scenario's currency, QALYs per patient). Net monetary benefit is ``wtp * qaly - cost``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cartsim.decide.samples import FloatArray, wide
from cartsim.decide.stats import nmb


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
        arm in input order), exactly one arm per ``wtp``; ``probability_se`` -- its Monte
        Carlo standard error ``sqrt(p (1 - p) / n_iterations)``.
    """
    grid = _wtp_grid(wtp_grid)
    arms, cost, qaly = wide(psa, "iteration")
    n_arm = len(arms)
    prob = np.empty((grid.size, n_arm))
    expected = np.empty((grid.size, n_arm))
    for g, w in enumerate(grid):
        net = nmb(cost, qaly, w)  # (n_iter, n_arm)
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
            "probability_se": np.sqrt(prob * (1.0 - prob) / cost.shape[0]).ravel(),
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
        Columns ``wtp`` (EUR/QALY), ``evpi_per_patient`` (EUR), ``evpi_population``
        (EUR, ``evpi_per_patient * population``) and their Monte Carlo standard errors
        ``evpi_se_per_patient`` and ``evpi_se_population`` (the standard error of the mean
        opportunity loss over iterations), one row per grid value.
    """
    grid = _wtp_grid(wtp_grid)
    pop = float(population)
    if not math.isfinite(pop) or pop < 0.0:
        raise ValueError(f"population must be finite and >= 0, got {population!r}")
    _, cost, qaly = wide(psa, "iteration")
    per_patient = np.empty(grid.size)
    se = np.full(grid.size, np.nan)
    for g, w in enumerate(grid):
        net = nmb(cost, qaly, w)
        best = int(net.mean(axis=0).argmax())
        loss = net.max(axis=1) - net[:, best]
        per_patient[g] = float(np.mean(loss))
        if loss.size > 1:
            se[g] = float(np.std(loss, ddof=1) / np.sqrt(loss.size))
    return pd.DataFrame(
        {
            "wtp": grid,
            "evpi_per_patient": per_patient,
            "evpi_population": per_patient * pop,
            "evpi_se_per_patient": se,
            "evpi_se_population": se * pop,
        }
    )


NOISE_GUIDANCE = 0.05  # above this share of INMB variance, more replications per iteration help


def noise_share(units: pd.DataFrame, wtp: float, reference: str) -> pd.DataFrame:
    """How much of the spread of INMB across PSA iterations is patient-level noise.

    ``units`` has one row per iteration, replication and arm (``cost``, ``qaly``). With ``R``
    replications per iteration, the variance of an iteration's mean INMB holds the parameter
    uncertainty plus ``within / R``, where ``within`` is the variance between replications of
    the same iteration (one-way analysis of variance). Columns: ``comparison``,
    ``replications``, ``total_variance`` (of iteration means), ``noise_variance``
    (``within / R``), ``noise_share`` (their ratio, capped at 1; NaN with one replication,
    where noise cannot be told from uncertainty), ``wtp``.
    """
    net = units.assign(nmb=nmb(units["cost"], units["qaly"], wtp))
    table = net.pivot_table(index=["iteration", "replication"], columns="arm", values="nmb")
    reps = int(table.groupby(level="iteration").size().min())
    rows = []
    for arm in [a for a in table.columns if a != reference]:
        inmb = (table[arm] - table[reference]).rename("inmb")
        means = inmb.groupby(level="iteration").mean()
        total = float(means.var(ddof=1)) if means.size > 1 else math.nan
        within = float(inmb.groupby(level="iteration").var(ddof=1).mean()) if reps > 1 else math.nan
        noise = within / reps
        share = min(noise / total, 1.0) if total > 0 else math.nan
        rows.append({"comparison": f"{arm} vs {reference}", "replications": reps,
                     "total_variance": total, "noise_variance": noise, "noise_share": share,
                     "wtp": float(wtp)})  # fmt: skip
    return pd.DataFrame(rows)
