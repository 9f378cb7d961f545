"""The report of ``cartsim compare``: two scenarios run on the same patients, side by side.

It reads the comparison folder's own tables (``comparison``, ``comparison_targets``,
``comparison_sites``) and, for the schematics, each scenario's run folder inside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.report import text
from cartsim.report.folder import read_run
from cartsim.report.page import Block, Page, Section
from cartsim.report.plots.common import shown
from cartsim.report.plots.sites import plot_by_period, plot_network
from cartsim.report.sites import answer, site_tables
from cartsim.runs.atomic import write_text

HEADLINE = (
    "referred",
    "treated",
    "died_waiting",
    "dropped_out",
    "median_vein_to_vein_days",
    "p90_vein_to_vein_days",
    "mean_wait_manufacturing_days",
    "mean_cost_total",
    "mean_qaly_total",
)


def side_table(comparison: pd.DataFrame, period: str, metrics: tuple[str, ...] | None) -> Any:
    """Rows ``arm, metric`` (or ``period``), a column per scenario and the difference, each
    with its 95% CI."""
    rows = comparison[comparison["period"] == period] if period else comparison
    if metrics is not None:
        rows = rows[rows["metric"].isin(metrics)]
    index = ["arm", "metric"] if period else ["arm", "metric", "period"]
    table = rows.set_index([*index, "scenario"])[["mean", "ci_low", "ci_high"]].unstack("scenario")
    out = pd.DataFrame(index=table.index)
    for name in pd.unique(rows["scenario"]):
        out[name] = table[("mean", name)]
        out[f"{name}_ci_low"] = table[("ci_low", name)]
        out[f"{name}_ci_high"] = table[("ci_high", name)]
    return out.reset_index()


def sections(folder: Path, t: dict[str, pd.DataFrame | None], money: str, page: Page) -> list[Any]:
    comparison = t["comparison"]
    assert comparison is not None
    names = [str(n) for n in pd.unique(comparison["scenario"])][:2]
    note = (
        f"Both scenarios ran with the same seed and replications: in each replication they "
        f"meet the same referred patients (common random numbers). '{names[-1]} - {names[0]}' "
        "is the mean of the per-replication differences with its paired 95% CI."
    )
    head: list[Block] = [{"kind": "note", "text": note}]
    verdicts = t.get("comparison_targets")
    for name, rows in verdicts.groupby("scenario", sort=False) if verdicts is not None else []:
        head.append({"kind": "note", "text": f"{name}: {answer(rows)}"})
        head += [{"kind": "note", "text": f"{name}: target {text.target_sentence(r)}"}
                 for r in rows.to_dict("records")]  # fmt: skip
    headline = text.frame_table(side_table(comparison, "all", HEADLINE), money)
    head.append({"kind": "table", "title": "Side by side (mean per replication, 95% CI)",
                 "table": headline})  # fmt: skip
    years = comparison[comparison["period"].str.startswith("referral year")]
    spend = comparison[comparison["period"].str.startswith("calendar year")]
    bound = _bound(verdicts)
    capacity = [
        {"kind": "table", "title": "Capacity: every measure over the run",
         "table": text.frame_table(side_table(comparison, "all", None), money)},
        page.figure(plot_by_period(years, "p90_vein_to_vein_days", "days", bound),
                    "90th-centile vein-to-vein time per year of referral (mean, 95% CI); dotted: "
                    "the target."),
        {"kind": "table", "title": "Per year of referral",
         "table": text.frame_table(side_table(years, "", None), money)},
    ]  # fmt: skip
    budget = [
        page.figure(plot_by_period(spend, "spend_total", money),
                    f"Spend per calendar year ({money}, undiscounted; fixed capacity costs "
                    "included)."),
        {"kind": "table", "title": "Budget per calendar year, by category",
         "table": text.frame_table(side_table(spend, "", None), money)},
    ]  # fmt: skip
    sites: list[Block] = []
    for name in names:
        _, run = read_run(folder / name)
        sites.append(page.figure(
            plot_network(run.get("site_resources"), run.get("transport_legs"), name),
            f"{name}: sites, shared resources and courier legs taken."))  # fmt: skip
        if run.get("kpis_by_site") is not None:
            sites += site_tables(run["kpis_by_site"], money, name)  # type: ignore[arg-type]
    return [
        Section("kpis", "Answer and headline", head),
        Section("capacity", "Capacity and vein-to-vein", capacity),
        Section("budget", "Budget", budget),
        Section("sites", "Sites", sites),
    ]


def _bound(verdicts: pd.DataFrame | None) -> float | None:
    """The bound of the first target on the 90th-centile vein-to-vein time, if any."""
    if verdicts is None:
        return None
    rows = verdicts[verdicts["metric"] == "p90_vein_to_vein_days"]
    found = re.search(r"[<>]= (\S+)", str(rows["target"].iloc[0])) if len(rows) else None
    return float(found.group(1)) if found else None


def write_compare_report(folder: Path) -> Path:
    """Write the comparison's ``report.html`` into ``folder`` and return its path."""
    from cartsim.report.html import ENV

    manifest, tables = read_run(folder)
    scenario = manifest["scenario"]
    money = f"{shown(scenario['currency'])} {shown(scenario['price_year'])}".strip()
    page = Page()
    built = sections(folder, tables, money, page)
    names = " vs ".join(str(n) for n in manifest.get("compared", []))
    title = {"name": names, "description": "Two scenarios side by side on the same patients."}
    html = ENV.get_template("report.html.j2").render(
        manifest=manifest, scenario=title, sections=built, figures=page.count
    )
    return write_text(folder / "report.html", html)
