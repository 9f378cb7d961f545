"""Net budget impact: each arm's spend minus current practice's, per calendar year.

From the run's budget table (undiscounted spend per year of the run, by category and arm, one
row per replication), the net impact of adopting an arm instead of current practice (the
reference arm) is the paired difference of their yearly spend. Every arm treats the same
referred cohort with the same draws, so the 95% t-interval is taken over the per-replication
differences (:func:`cartsim.decide.stats.paired_difference_ci`). Money is that of the scenario's
currency and price year, undiscounted, as budget impact analyses report it (Sullivan et al.,
Value Health 2014;17:5-14, doi:10.1016/j.jval.2013.08.2291).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cartsim.decide.stats import paired_difference_ci, with_ci

COLUMNS = [
    "year",
    "calendar_year",
    "arm",
    "reference",
    "spend",
    "reference_spend",
    "net_budget_impact",
    "net_budget_impact_ci_low",
    "net_budget_impact_ci_high",
    "n_replications",
]


def reference_arm(arms: list[str], reference: str | None) -> str:
    """Current practice: ``reference`` when it is an arm, else ``soc``, else the first arm."""
    if reference in arms:
        return str(reference)
    return "soc" if "soc" in arms else arms[0]


def budget_impact(
    budget: pd.DataFrame, reference: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Net budget impact of every arm against ``reference`` per year of the run.

    Parameters
    ----------
    budget : pandas.DataFrame
        ``replication, arm, year, cost_total`` (and ``calendar_year`` when the run has a start
        date): undiscounted spend per year of the run (money of the price year).
    reference : str, optional
        The current-practice arm (see :func:`reference_arm`).
    level : float, default 0.95
        Confidence level of the paired t-intervals over replications.

    Returns
    -------
    pandas.DataFrame
        One row per year and arm other than the reference (:data:`COLUMNS`): mean spend of the
        arm and of the reference, and their mean paired difference with its interval (NaN with
        one replication). Empty when the table has fewer than two arms.
    """
    arms = [str(a) for a in pd.unique(budget["arm"].astype(str))] if len(budget) else []
    if len(arms) < 2:
        return pd.DataFrame(columns=COLUMNS)
    ref = reference_arm(arms, reference)
    keys = ["year", *(["calendar_year"] if "calendar_year" in budget else [])]
    wide = budget.assign(arm=budget["arm"].astype(str)).pivot_table(
        index=[*keys, "replication"], columns="arm", values="cost_total", aggfunc="sum"
    )
    wide = wide.fillna(0.0)  # an arm with no row in a year spent nothing in it
    rows = []
    for key, part in wide.groupby(level=keys, sort=True):
        found: tuple[Any, ...] = key if isinstance(key, tuple) else (key,)
        year, calendar = (*found, None)[:2]
        for arm in arms:
            if arm == ref:
                continue
            rows.append(
                {
                    "year": int(year),
                    "calendar_year": calendar,
                    "arm": arm,
                    "reference": ref,
                    "spend": float(part[arm].mean()),
                    "reference_spend": float(part[ref].mean()),
                    **with_ci(
                        "net_budget_impact", paired_difference_ci(part[arm], part[ref], level)
                    ),
                    "n_replications": len(part),
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)
