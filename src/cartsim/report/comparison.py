"""Report section: the arms compared on capacity per patient treated and on value at once.

Reads ``footprint`` (days each resource is held per patient treated, rescue journeys included),
``incremental`` (cost, QALYs, INMB against the reference arm with paired 95% CIs) and, when the
scenario asks for them, ``threshold_prices`` (the price at which each product's INMB against
the comparator is 0, with Fieller's interval). Shown whenever the run has the first two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cartsim.evaluate.footprint import SUFFIX, TREATED
from cartsim.report import text
from cartsim.report.folder import Tables
from cartsim.report.page import Block, Page, Section
from cartsim.report.plots.comparison import plot_capacity_value

HOURS_PER_DAY = 24.0
CI = ("", "_ci_low", "_ci_high")


def comparison_table(
    footprint: pd.DataFrame, incremental: pd.DataFrame, hours: set[str]
) -> tuple[pd.DataFrame, list[str], str]:
    """One row per arm: patients treated, days of each resource per patient treated (and hours
    for the resources in ``hours``), cost, QALYs and INMB against the reference, each with its
    95% CI. Returns the table, the resources and the name of the INMB column."""
    fp = footprint.assign(arm=footprint["arm"].astype(str), metric=footprint["metric"].astype(str))
    arms = list(pd.unique(fp["arm"]))
    wide = fp.set_index(["arm", "metric"])[["mean", "ci_low", "ci_high"]]
    table = pd.DataFrame({"arm": arms})
    value = wide["mean"].unstack("metric").reindex(arms)
    table["patients treated"] = value[TREATED].to_numpy() if TREATED in value else float("nan")
    resources = [m.removesuffix(SUFFIX) for m in value.columns if m.endswith(SUFFIX)]
    for resource in resources:
        for suffix, column in zip(CI, ("mean", "ci_low", "ci_high"), strict=True):
            per = wide[column].unstack("metric").reindex(arms)[f"{resource}{SUFFIX}"].to_numpy()
            table[f"{resource} days{suffix}"] = per
            if resource in hours:
                table[f"{resource} hours{suffix}"] = per * HOURS_PER_DAY
    everyone = incremental[incremental["population"].astype(str) == "all"]
    full = everyone[everyone["analysis"].astype(str) == "fully incremental"]
    full = full.assign(arm=full["arm"].astype(str)).drop_duplicates("arm").set_index("arm")
    for measure in ("cost", "qaly"):
        for suffix in CI:
            table[f"{measure}{suffix}"] = table["arm"].map(full[f"{measure}{suffix}"])
    pairs = everyone[everyone["analysis"].astype(str) == "pairwise"]
    reference = str(pairs["comparator"].iloc[0]) if len(pairs) else ""
    inmb = f"INMB vs {reference}"
    pairs = pairs.assign(arm=pairs["intervention"].astype(str)).set_index("arm")
    for suffix in CI:
        table[f"{inmb}{suffix}"] = table["arm"].map(pairs[f"inmb{suffix}"])
    if reference:
        table.loc[table["arm"] == reference, [f"{inmb}{s}" for s in CI]] = 0.0
    return table, resources, inmb


def threshold_block(prices: pd.DataFrame, currency: str) -> Block:
    """The threshold price of each product, its 95% interval and headroom."""
    keep = ["arm", "parameter", "comparator", "base_value", "threshold", "threshold_ci_low",
            "threshold_ci_high", "headroom", "method", "replications"]  # fmt: skip
    shown = prices[[c for c in keep if c in prices]]
    return {"kind": "table", "title": f"Threshold prices ({currency})",
            "table": text.frame_table(shown, currency)}  # fmt: skip


def estimate_note(scenario: Mapping[str, Any], used: list[str] | None) -> Block | None:
    """The inputs the model uses that are estimates (``estimate: true``), by name."""
    parameters = scenario.get("parameters") or {}
    names = [n for n, p in parameters.items()
             if (used is None or n in used) and (p or {}).get("estimate")]  # fmt: skip
    if not names:
        return None
    listed = ", ".join(names)
    return {"kind": "note", "text": f"Inputs that are estimates ({len(names)}; sources, "
            f"distributions and one-way ranges in the parameter table): {listed}."}  # fmt: skip


def session_resources(scenario: Mapping[str, Any]) -> set[str]:
    """Resources open part of the day (an apheresis chair): their use is shown in hours too."""
    calendars = scenario.get("calendars") or {}
    out = set()
    for name, resource in (scenario.get("resources") or {}).items():
        calendar = (resource or {}).get("calendar")
        calendar = calendars.get(calendar) if isinstance(calendar, str) else calendar
        opening = list((calendar or {}).get("hours") or [0.0, 24.0])
        if opening != [0.0, 24.0]:
            out.add(str(name))
    return out


def comparison_section(
    t: Tables, page: Page, manifest: Mapping[str, Any], currency: str
) -> Section | None:
    """Capacity per patient treated and value side by side, with threshold prices; None when
    the run has no footprint or incremental table."""
    footprint, incremental = t.get("footprint"), t.get("incremental")
    if footprint is None or incremental is None or "population" not in incremental:
        return None
    scenario = manifest["scenario"]
    hours = session_resources(scenario)
    table, resources, inmb = comparison_table(footprint, incremental, hours)
    blocks: list[Block] = [
        {
            "kind": "note",
            "text": (
                "Days each resource is held per patient an arm treats (a chair held 4 hours is "
                "0.17 days; a ward bed kept through an ICU stay counts as both), over the whole "
                "run and including the rescue treatments its relapsing patients receive, next "
                f"to cost, QALYs and INMB per referred patient ({currency}, discounted). Means "
                "over replications with 95% confidence intervals (INMB: paired)."
            ),
        },  # fmt: skip
        {
            "kind": "table",
            "title": "Capacity per patient treated and value, per arm",
            "table": text.frame_table(table, currency),
        },  # fmt: skip
        page.figure(
            plot_capacity_value(table, resources, inmb, currency),
            "Each arm's days of a resource per patient treated (x) against its INMB (y), with "
            "95% confidence intervals; line: INMB = 0.",
        ),
    ]
    prices = t.get("threshold_prices")
    if prices is not None:
        blocks.append({"kind": "note", "text": (
            "Threshold price: the price at which the product's INMB against the comparator is "
            "0, from three runs on the same patients (common random numbers) at the base, 1.5 "
            "and 2 times the base price; Fieller's 95% interval when INMB is linear in the "
            "price. The interval covers the Monte Carlo error of the replications only, not "
            "the uncertainty of the inputs (see the PSA for that); an open bound (inf) means "
            "that INMB does not differ from 0 at any price at that confidence."
        )})  # fmt: skip
        blocks.append(threshold_block(prices, currency))
    note = estimate_note(scenario, manifest.get("parameters_used"))
    if note is not None:
        blocks.append(note)
    return Section("comparison", "Capacity and value, arm by arm", blocks)
