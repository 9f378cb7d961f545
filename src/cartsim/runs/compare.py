"""Two scenarios run on the same patients, and their results side by side.

Both run with the same seed and replications, so patient *i* of replication *r* is referred on
the same day with the same draws in each (common random numbers) whenever the scenarios share
their demand; :func:`same_referrals` says whether they do.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cartsim.decide.compare import side_by_side
from cartsim.evaluate.kpis import period_metrics
from cartsim.inputs.scenario import Scenario
from cartsim.runs import studies

YEAR_MEASURES = ("referred", "treated", "p90_vein_to_vein_days", "median_vein_to_vein_days")


def same_referrals(first: Scenario, second: Scenario) -> bool:
    """True when both refer the same patients: same demand, run window, seed and sites'
    catchments (the site draw is common too)."""

    def key(s: Scenario) -> object:
        catchment = {name: site.catchment for name, site in s.sites.items()}
        run = (s.run.seed, s.run.replications, s.run.arrival_window_days, s.run.start_date)
        return (s.model_dump(mode="json")["demand"], run, catchment)

    return key(first) == key(second)


def replication_values(scenario: Scenario, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``replication, arm, metric, period, value`` of one run: every KPI over the whole run
    (period ``all``), the main measures per year of referral, and the budget (all arms and the
    fixed capacity costs, undiscounted) per calendar year."""
    pooled = frames["metrics"].assign(period="all")
    run = scenario.run
    years = period_metrics(frames["patients"], run.warmup_days, run.start_date, ("referral_year",))
    years = years[years["metric"].isin(YEAR_MEASURES)]
    years = years.assign(period="referral year " + years["period"].astype(str))
    parts = [pooled, years.drop(columns="period_kind")]
    budget = frames.get("budget")
    if budget is not None and len(budget):
        costs = [c for c in budget.columns if c.startswith("cost_")]
        spend = budget.groupby(["replication", "calendar_year"])[costs].sum().reset_index()
        spend = spend.melt(["replication", "calendar_year"], var_name="metric")
        spend["metric"] = "spend_" + spend["metric"].str.removeprefix("cost_")
        spend["period"] = "calendar year " + spend.pop("calendar_year").astype(str)
        parts.append(spend.assign(arm="all"))
    columns = ["replication", "arm", "metric", "period", "value"]
    out = pd.concat([p.astype({"arm": str})[columns] for p in parts], ignore_index=True)
    return out


def compare(
    models: list[Scenario], workers: int, on_done: Callable[[int], None] | None = None
) -> tuple[dict[str, dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    """Run each scenario; return each run's tables by scenario name, and the comparison:
    ``comparison`` (:func:`cartsim.decide.compare.side_by_side`), and where the scenarios have
    targets, ``comparison_targets`` (each scenario's verdicts) and, with sites,
    ``comparison_sites`` (each scenario's per-site KPIs)."""
    runs = {m.name: studies.run(m, workers=workers, events=False, on_done=on_done) for m in models}
    samples = {m.name: replication_values(m, runs[m.name]) for m in models}
    out = {"comparison": side_by_side(samples)}
    for table in ("targets", "kpis_by_site"):
        parts = [f[table].assign(scenario=name) for name, f in runs.items() if table in f]
        if parts:
            label = "comparison_" + ("sites" if table == "kpis_by_site" else table)
            out[label] = pd.concat(parts, ignore_index=True)
    return runs, out
