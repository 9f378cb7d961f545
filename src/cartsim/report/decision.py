"""Report sections of decision uncertainty: value of further information, thresholds, how far
a PSA has converged, and validation against published figures.

Each builder takes the run's checked tables (:mod:`cartsim.report.folder`) and the page that
numbers figures, and returns ``(key, title, blocks)``, or None when the run has no such
analysis. Money is labelled with the scenario's currency and price year (``currency``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cartsim.decide.validation import report_rows
from cartsim.report import text
from cartsim.report.plots import information as figures

if TYPE_CHECKING:
    from cartsim.report.page import Page

Block = dict[str, Any]
Built = tuple[str, str, list[Block]] | None
Tables = dict[str, pd.DataFrame | None]


def table_block(title: str, frame: pd.DataFrame, currency: str) -> Block:
    """A titled table of every column of ``frame`` (``x_ci_low``/``x_ci_high`` beside ``x``),
    money labelled ``currency``."""
    return {"kind": "table", "title": title, "table": text.frame_table(frame, currency)}


def evpi_at(evpi: pd.DataFrame | None, wtp: float) -> tuple[float, float] | None:
    """(EVPI per patient, its Monte Carlo SE) at the grid point nearest ``wtp``."""
    if evpi is None or not len(evpi) or "evpi_se_per_patient" not in evpi:
        return None
    row = evpi.iloc[int((evpi["wtp"] - wtp).abs().argmin())]
    return float(row["evpi_per_patient"]), float(row["evpi_se_per_patient"])


def information_section(t: Tables, page: Page, currency: str) -> Built:
    """EVPI with its SE, and EVPPI of parameters and groups ranked, with +-2 SE bars."""
    table = t["evppi"]
    if table is None:
        return None
    wtp = float(table["wtp"].iloc[0])
    evpi = evpi_at(t["evpi"], wtp)
    blocks: list[Block] = []
    if evpi is not None:
        blocks.append({"kind": "note", "text": (
            f"EVPI at {wtp:,.0f} {currency} per QALY: {evpi[0]:,.0f} {currency} per patient "
            f"(Monte Carlo SE {evpi[1]:,.0f}): the most that resolving all uncertainty is worth."
        )})  # fmt: skip
    if "parameters" in table:  # rows of capacity parameters only (cap_*: slots, failures)
        members = table["parameters"].astype(str).str.split(", ")
        cap = table[members.map(lambda m: all(p.startswith("param_cap_") for p in m))]
        if len(cap):
            row = cap.iloc[0]
            blocks.append({"kind": "note", "text": (
                f"What is better data on capacity and delivery (cap_* parameters: slots, "
                f"manufacturing failure) worth? Most for {row['group']}: "
                f"{row['evppi_per_patient']:,.0f} {currency} per patient "
                f"(SE {row['se_per_patient']:,.0f})."
            )})  # fmt: skip
    blocks.append(page.figure(
        figures.plot_evppi(table, currency, evpi),
        f"Expected value of partial perfect information per patient ({currency}) at "
        f"{wtp:,.0f} per QALY, ranked; bars: ±2 Monte Carlo standard errors (bootstrap over "
        "iterations; regression error not included); dashed: EVPI.",
    ))  # fmt: skip
    shown = table[["group", "method", "evppi_per_patient", "se_per_patient"]
                  + [c for c in ("evppi_population", "se_population") if c in table]]  # fmt: skip
    blocks.append(table_block(f"EVPPI ({currency})", shown.rename(columns={
        "evppi_per_patient": "EVPPI per patient", "se_per_patient": "SE per patient",
        "evppi_population": "EVPPI, population", "se_population": "SE, population",
    }), currency))  # fmt: skip
    return "information", "Value of further information", blocks


def threshold_section(t: Tables, page: Page, currency: str) -> Built:
    """Threshold value per comparator with its CI and headroom; the two-way heat map."""
    table = t["threshold"]
    if table is None:
        return None
    first = table.iloc[0]
    blocks: list[Block] = [{"kind": "note", "text": (
        f"Value of {first.get('parameter', '')} for {first.get('arm', '')} at which its "
        f"incremental net benefit against each comparator is 0, at {first.get('wtp', 0):,.0f} "
        f"{currency} per QALY, with its {first.get('level', 0.95):.0%} confidence interval; "
        "headroom: threshold minus base value, in the unit shown (money in the scenario's "
        "currency and price year). A price is linear: "
        "Fieller's interval; any other parameter: root-finding on common random numbers."
    )}]  # fmt: skip
    keep = ["comparator", "unit", "base_value", "threshold", "threshold_ci_low",
            "threshold_ci_high", "headroom", "inmb_base", "method", "replications"]  # fmt: skip
    blocks.append(table_block(
        "Threshold and value-based price",
        table[[c for c in keep if c in table]].rename(
            columns={"inmb_base": "INMB at base value"}
        ),
        currency,
    ))  # fmt: skip
    if t["threshold_grid"] is not None:
        blocks.append(page.figure(
            figures.plot_threshold_grid(t["threshold_grid"]),
            "Arm with the highest expected net benefit at every pair of values (two-way), "
            "where it is clear: grey where its paired INMB interval against some other arm "
            "includes 0 (Bonferroni over the comparisons; the hover gives the interval).",
        ))  # fmt: skip
    return "threshold", "Threshold and value-based price", blocks


def psa_uncertainty_section(t: Tables, page: Page, currency: str, wtp: float,
                            reference: str | None) -> Built:  # fmt: skip
    """Monte Carlo error of the PSA: CEAC bands, running means, and patient-level noise."""
    if t["psa"] is None:
        return None
    blocks: list[Block] = []
    noise = t["psa_noise"]
    if noise is not None:
        blocks.append(table_block(
            "Share of the spread of INMB that is patient-level noise",
            noise.rename(columns={"noise_share": "noise share"}),
            currency,
        ))  # fmt: skip
    blocks += [
        page.figure(
            figures.plot_running_inmb(t["psa"], wtp, reference, currency),
            f"Mean incremental net benefit ({currency} per patient) over the first n PSA "
            "iterations, with its 95% t-band: flat and narrow when there are enough.",
        ),
        page.figure(
            figures.plot_running_probability(t["psa"], wtp),
            "Probability of being cost-effective over the first n iterations, with 95% band.",
        ),
        page.figure(
            figures.plot_ceac_bands(t["ceac"]),
            "Acceptability curves with 95% Monte Carlo bands (±1.96 √(p(1−p)/n)).",
        ),
    ]
    return "psa-uncertainty", "Uncertainty of the PSA", blocks


TECH_VER = (
    "Verification of the code itself follows TECH-VER (Büyükkaramikli et al., "
    "PharmacoEconomics 2019;37:1391, doi:10.1007/s40273-019-00844-y) in the test suite; this "
    "section is validation of outcomes, AdViSHE part D (Vemer et al., PharmacoEconomics "
    "2016;34:349, doi:10.1007/s40273-015-0327-2)."
)


def validation_section(t: Tables) -> Built:
    """Per external target: AdViSHE item, simulated and published intervals, verdict; a target
    outside its interval is highlighted."""
    table = t["validation"]
    if table is None:
        return None
    try:
        rows = report_rows(table)
    except (TypeError, ValueError) as exc:
        missing = {"kind": "missing", "text": f"validation.parquet cannot be shown: {exc}"}
        return "validation", "Validation", [missing]
    outside = sum(r["verdict"].startswith("outside") for r in rows)
    note = (
        f"{len(rows)} published targets; {outside} outside their interval (in bold red). "
        "Simulated: mean and 95% t-interval over replications; consistent: the intervals "
        "overlap. " + TECH_VER
    )
    header = list(rows[0]) if rows else []
    cells = [
        [{"kind": "bold", "text": r[h]} if r["verdict"].startswith("outside") else r[h]
         for h in header]
        for r in rows
    ]  # fmt: skip
    block = {"kind": "validation", "header": header, "rows": cells}
    return "validation", "Validation", [{"kind": "note", "text": note}, block]
