"""Report blocks of a service of sites and of planning targets: the answer to each target with
its confidence, the schematic of sites and courier legs, and the measures per site and year."""

from __future__ import annotations

import pandas as pd

from cartsim.report import text
from cartsim.report.page import Block, Page, Section
from cartsim.report.plots.sites import plot_network

SITE_METRICS = (
    "referred",
    "treated",
    "died_waiting",
    "dropped_out",
    "mean_wait_days",
    "median_vein_to_vein_days",
    "p90_vein_to_vein_days",
    "mean_cost_total",
)
YEAR_METRICS = ("referred", "treated", "p90_vein_to_vein_days")


def answer(targets: pd.DataFrame) -> str:
    """One sentence: are all targets met, and with what confidence."""
    level = f"{float(targets['confidence'].iloc[0]):.0%}"
    met = int((targets["verdict"] == "meets").sum())
    if met == len(targets):
        return f"Every target is met with {level} confidence."
    failed = int((targets["verdict"] == "fails").sum())
    return (
        f"{met} of {len(targets)} target(s) met with {level} confidence; {failed} not met, "
        f"{len(targets) - met - failed} unclear."
    )


def target_blocks(targets: pd.DataFrame | None) -> list[Block]:
    """The answer, then each target in words (targets.parquet)."""
    if targets is None or not len(targets):
        return []
    lines = [text.target_sentence(r) for r in targets.to_dict("records")]
    return [{"kind": "note", "text": f"Answer: {answer(targets)}"}] + [
        {"kind": "note", "text": f"Target {line}"} for line in lines
    ]


def wide(rows: pd.DataFrame, index: list[str], metrics: tuple[str, ...]) -> pd.DataFrame:
    """One row per ``index``, a column per metric with its CI columns (for frame_table)."""
    values = rows[rows["metric"].isin(metrics)].set_index([*index, "metric"])
    table = values[["mean", "ci_low", "ci_high"]].unstack("metric")
    out = pd.DataFrame(index=table.index)
    for metric in [m for m in metrics if ("mean", m) in table.columns]:
        out[metric] = table[("mean", metric)]
        out[f"{metric}_ci_low"] = table[("ci_low", metric)]
        out[f"{metric}_ci_high"] = table[("ci_high", metric)]
    return out.reset_index()


def site_tables(by_site: pd.DataFrame, money: str, title: str = "") -> list[Block]:
    """Per site and for the whole service (``service``), over the run and per year of
    referral (mean per replication, 95% CI)."""
    lead = f"{title}: " if title else ""
    pooled = wide(by_site[by_site["period_kind"] == "all"], ["arm", "site"], SITE_METRICS)
    yearly = by_site[by_site["period_kind"] == "referral_year"]
    years = wide(yearly, ["arm", "site", "period"], YEAR_METRICS)
    years = years.rename(columns={"period": "year of referral"})
    return [
        {"kind": "table", "title": f"{lead}per site and for the service (kpis_by_site.parquet)",
         "table": text.frame_table(pooled, money)},
        {"kind": "table", "title": f"{lead}per site and year of referral",
         "table": text.frame_table(years, money)},
    ]  # fmt: skip


def site_section(t: dict[str, pd.DataFrame | None], page: Page, money: str) -> Section | None:
    """The sites of the service: schematic, then the measures per site and year."""
    by_site = t.get("kpis_by_site")
    if by_site is None:
        return None
    figure = page.figure(
        plot_network(t.get("site_resources"), t.get("transport_legs")),
        "Where each site's patients are served: the resources at each site and those shared "
        "nationally (capacity in units), and the courier legs taken (arrows; a leg between two "
        "resources at the same place is not taken).",
    )
    return Section("sites", "Sites", [figure, *site_tables(by_site, money)])
