"""Whether a capacity setting meets its planning targets, judged with the uncertainty.

A setting meets a target when the confidence bound on the target's side does (the upper bound
for ``at_most``, the lower for ``at_least``), fails it when the other bound is already beyond the
target, and is unclear in between: more replications can settle it. With ``per_year`` the worst
year of referral counts: every year must meet, one failing year fails.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cartsim.inputs.scenario import PlanningTarget

MEETS, FAILS, UNCLEAR = "meets", "fails", "unclear"


def bound_verdict(low: float, high: float, target: PlanningTarget) -> str:
    """The verdict of one confidence interval ``[low, high]`` against ``target``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return UNCLEAR  # one replication, or no patient to measure
    if target.at_most is not None:
        return MEETS if high <= target.at_most else FAILS if low > target.at_most else UNCLEAR
    assert target.at_least is not None
    return MEETS if low >= target.at_least else FAILS if high < target.at_least else UNCLEAR


def combine(verdicts: list[str]) -> str:
    """All must meet: any failure fails, then any doubt is unclear."""
    if FAILS in verdicts:
        return FAILS
    return UNCLEAR if UNCLEAR in verdicts or not verdicts else MEETS


def target_label(target: PlanningTarget) -> str:
    """E.g. ``p90_vein_to_vein_days of cart <= 35 (every referral year)``."""
    bound = f"<= {target.at_most:g}" if target.at_most is not None else f">= {target.at_least:g}"
    return f"{target.metric} of {target.arm} {bound}" + (
        " (every referral year)" if target.per_year else ""
    )


def judge_target(rows: pd.DataFrame, target: PlanningTarget) -> dict[str, object]:
    """The verdict of one setting's KPI rows (``mean, ci_low, ci_high, n_replications`` and, per
    year, ``referral_year``) on one target, with the row that decides it (the worst year)."""
    verdicts = [
        bound_verdict(float(r["ci_low"]), float(r["ci_high"]), target) for _, r in rows.iterrows()
    ]
    verdict = combine(verdicts)
    if not len(rows):
        worst = None
    else:
        upper = target.at_most is not None  # the side of the target that decides
        if verdict == FAILS:  # the year that fails most clearly
            side = rows["ci_low"] if upper else -rows["ci_high"]
        else:  # the year closest to failing
            side = rows["ci_high"] if upper else -rows["ci_low"]
        worst = rows.iloc[int(np.argmax(side.fillna(math.inf).to_numpy()))]
    return {
        "target": target_label(target),
        "arm": target.arm,
        "metric": target.metric,
        "per_year": target.per_year,
        "worst_referral_year": (
            float(worst["referral_year"]) if worst is not None and target.per_year else math.nan
        ),
        "mean": math.nan if worst is None else float(worst["mean"]),
        "ci_low": math.nan if worst is None else float(worst["ci_low"]),
        "ci_high": math.nan if worst is None else float(worst["ci_high"]),
        "n_replications": 0 if worst is None else int(worst["n_replications"]),
        "verdict": verdict,
    }


def judge(sweep: pd.DataFrame, targets: list[PlanningTarget]) -> pd.DataFrame:
    """One row per setting and target: the deciding value, its interval and the verdict.

    ``sweep`` is the sweep table: ``setting_id, arm, metric, mean, ci_low, ci_high,
    n_replications`` and ``referral_year`` (missing on the rows pooled over all years).
    """
    rows = []
    pooled = sweep["referral_year"].isna()
    for setting_id, group in sweep.groupby("setting_id", sort=True):
        for target in targets:
            mine = group[(group["arm"] == target.arm) & (group["metric"] == target.metric)]
            mine = (
                mine[~pooled.loc[mine.index]] if target.per_year else mine[pooled.loc[mine.index]]
            )
            rows.append({"setting_id": int(str(setting_id)), **judge_target(mine, target)})
    return pd.DataFrame(rows)


AT_CAP = "unclear at cap"
SWEEP_COLUMNS = frozenset(
    ("setting_id", "setting", "referral_year", "arm", "metric", "mean", "ci_low", "ci_high")
    + ("n_replications", "capacity", "capacity_cost_per_year")
)


def decide(
    sweep: pd.DataFrame,
    judged: pd.DataFrame,
    replications: dict[int, int],
    cap: int,
) -> pd.DataFrame:
    """One row per setting: its values, capacity, capacity cost, replications run, the verdict
    on all targets together (``meets``, ``fails``, ``unclear``, or ``unclear at cap`` when the
    replication cap is reached) and whether it is ``chosen``: of the settings that meet, the one
    with the smallest capacity, then the lowest capacity cost, then the first in the grid."""
    paths = [c for c in sweep.columns if c not in SWEEP_COLUMNS]
    keep = ["setting_id", "setting", *paths, "capacity", "capacity_cost_per_year"]
    table = sweep.drop_duplicates("setting_id")[keep].reset_index(drop=True)
    table["replications"] = table["setting_id"].map(replications).astype(int)
    verdicts = judged.groupby("setting_id")["verdict"].apply(list)
    table["verdict"] = [combine(list(verdicts.get(sid, []))) for sid in table["setting_id"]]
    at_cap = (table["verdict"] == UNCLEAR) & (table["replications"] >= cap)
    table.loc[at_cap, "verdict"] = AT_CAP
    table["chosen"] = False
    meeting = table[table["verdict"] == MEETS]
    if len(meeting):
        order = meeting.sort_values(["capacity", "capacity_cost_per_year", "setting_id"])
        table.loc[order.index[0], "chosen"] = True
    return table


def run_verdicts(
    kpis: pd.DataFrame,
    by_year: pd.DataFrame | None,
    targets: list[PlanningTarget],
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per target of a run: the deciding value (the worst year of referral for a target
    per year) with its ``level`` interval, and whether it is met, failed or unclear at that
    confidence (``confidence``)."""
    rows = []
    years = None
    if by_year is not None:
        years = by_year[by_year["period_kind"] == "referral_year"]
        years = years.rename(columns={"period": "referral_year"})
    for target in targets:
        table = years if target.per_year and years is not None else kpis
        mine = table[(table["arm"] == target.arm) & (table["metric"] == target.metric)]
        rows.append({**judge_target(mine, target), "confidence": level})
    return pd.DataFrame(rows)
