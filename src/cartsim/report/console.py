"""What the command line prints on the console: run summaries and the headline of each study.

Every figure carries its unit (days, patients, shares, money of the scenario's currency and
price year).
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from cartsim.inputs.scenario import Scenario
from cartsim.inputs.units import DAYS_PER_YEAR

console = Console()


def print_summary(model: Scenario, kpis: pd.DataFrame) -> None:
    """Mean wait per stage, vein-to-vein, utilisation, and deaths and dropouts while waiting."""
    run = model.run
    years = (run.arrival_window_days - run.warmup_days) / DAYS_PER_YEAR
    money = f"{model.currency} {model.price_year}"
    for arm, group in kpis.groupby("arm", observed=True, sort=False):
        values = group.set_index("metric")
        if "referred" in values.index and values.loc["referred", "mean"] == 0:
            continue  # an arm the referral policy sends nobody to
        title = (
            f"{model.name}: arm {arm} — patients referred over {years:.1f} years after the "
            f"warm-up; mean of {run.replications} replications (money in {money})"
        )
        table = Table(title=title, title_justify="left")
        table.add_column("measure")
        table.add_column("mean", justify="right")
        table.add_column("95% CI", justify="right")
        for metric, label in summary_rows(list(values.index)):
            row = values.loc[metric]
            if pd.isna(row["mean"]):
                continue  # e.g. vein-to-vein in an arm without apheresis
            low = max(0.0, row["ci_low"])  # every measure here is >= 0
            ci = f"{low:,.2f} – {row['ci_high']:,.2f}" if pd.notna(row["ci_low"]) else "—"
            table.add_row(label, f"{row['mean']:,.2f}", ci)
        console.print(table)


def print_incremental(table: pd.DataFrame, model: Scenario) -> None:
    """The fully incremental analysis of all patients: costs, QALYs, ICERs and dominance."""
    rows = table[(table["population"] == "all") & (table["analysis"] == "fully incremental")]
    money = f"{model.currency} {model.price_year}"
    out = Table(title=f"{model.name}: incremental analysis, all patients ({money})")
    for column in ("arm", "cost", "QALYs", "compared with", "ICER per QALY", "status"):
        out.add_column(column, justify="left" if column in ("arm", "status") else "right")
    for _, r in rows.iterrows():
        icer = f"{r['icer']:,.0f}" if pd.notna(r["icer"]) else "—"
        comparator = str(r["comparator"]) if pd.notna(r["comparator"]) else "—"
        out.add_row(
            str(r["arm"]), f"{r['cost']:,.0f}", f"{r['qaly']:.2f}", comparator, icer, r["status"]
        )
    console.print(out)


def print_severity(frames: dict[str, pd.DataFrame], model: Scenario) -> None:
    """The QALY shortfall, its weight, and each comparison's ICER and INMB without and with it."""
    if "severity" not in frames:
        return
    s = frames["severity"].iloc[0]
    money = f"{model.currency} {model.price_year}"
    console.print(
        f"severity: QALY shortfall of {s['reference']} {s['absolute_shortfall']:.2f} QALYs "
        f"(proportional {s['proportional_shortfall']:.2f}); QALY weight {s['qaly_weight']:g}"
    )
    out = Table(title=f"{model.name}: against {s['reference']} ({money})")
    for column in ("arm", "QALY weight", "WTP per QALY", "ICER per QALY", "INMB", "95% CI"):
        out.add_column(column, justify="left" if column == "arm" else "right")
    for _, r in frames["severity_comparisons"].iterrows():
        ci = f"{r['inmb_ci_low']:,.0f} – {r['inmb_ci_high']:,.0f}"
        icer = f"{r['icer']:,.0f}" if pd.notna(r["icer"]) else "—"
        out.add_row(str(r["intervention"]), f"{r['qaly_weight']:g}", f"{r['wtp']:,.0f}", icer,
                    f"{r['inmb']:,.0f}", ci)  # fmt: skip
    console.print(out)


def summary_rows(metrics: list[str]) -> list[tuple[str, str]]:
    """Which KPIs the summary shows, in order, with a label that carries the unit."""
    rows = [("referred", "patients referred"), ("treated", "patients treated")]
    rows += [
        (m, f"wait for {m.removeprefix('mean_wait_').removesuffix('_days')} (days)")
        for m in metrics
        if m.startswith("mean_wait_")
    ]
    rows += [
        ("median_vein_to_vein_days", "vein-to-vein, median (days)"),
        ("p90_vein_to_vein_days", "vein-to-vein, 90th centile (days)"),
        ("mean_referral_to_treatment_days", "referral to treatment, mean (days)"),
    ]
    rows += [
        (m, f"utilisation of {m.removeprefix('utilisation_')} (share)")
        for m in metrics
        if m.startswith("utilisation_")
    ]
    rows += [
        ("died_waiting", "died while waiting (patients)"),
        ("dropped_out", "dropped out while waiting (patients)"),
        ("failed", "product failed, untreated (patients)"),
        ("mean_cost_total", "cost per referred patient (discounted)"),
        ("mean_qaly_total", "QALYs per referred patient (discounted)"),
    ]
    return [(m, label) for m, label in rows if m in metrics]


def print_psa(frames: dict[str, pd.DataFrame], model: Scenario) -> None:
    """Chance of being cost-effective per arm and EVPI at the scenario's willingness to pay."""
    if "ceac" not in frames or model.economics is None:
        return
    wtp = model.economics.wtp_per_qaly
    ceac, evpi = frames["ceac"], frames["evpi"]
    at = ceac["wtp"].iloc[(ceac["wtp"] - wtp).abs().argmin()]
    for _, row in ceac[ceac["wtp"] == at].iterrows():
        chance = row["probability_cost_effective"]
        console.print(f"P(cost-effective at {at:,.0f} per QALY) {row['arm']}: {chance:.2f}")
    value = evpi.loc[evpi["wtp"] == at, "evpi_per_patient"].iloc[0]
    money = f"{model.currency} {model.price_year}"
    years = model.economics.evpi_population_years
    population = evpi.loc[evpi["wtp"] == at, "evpi_population"].iloc[0]
    console.print(
        f"EVPI at {at:,.0f} {money} per QALY: {value:,.0f} per patient, "
        f"{population:,.0f} for {years:g} years of referrals (undiscounted)"
    )


def print_dsa(table: pd.DataFrame, model: Scenario) -> None:
    """The five widest ranges of incremental net benefit per comparison (tornado)."""
    money = f"{model.currency} {model.price_year}"
    for comparison, rows in table.groupby("comparison", sort=False) if len(table) else []:
        tornado = Table(title=f"{comparison}: incremental net benefit ({money}), widest 5")
        for column in ("parameter", "at low value", "at high value"):
            tornado.add_column(column, justify="left" if column == "parameter" else "right")
        for _, r in rows.head(5).iterrows():
            tornado.add_row(str(r["parameter"]), f"{r['inmb_low']:,.0f}", f"{r['inmb_high']:,.0f}")
        console.print(tornado)


def print_sweep(best: pd.Series | None, model: Scenario) -> None:
    """The cheapest setting of a sweep that meets the scenario's target."""
    target = model.target
    if target is None:
        return
    if best is None:
        console.print(f"no setting meets the target {target.metric} for {target.arm}")
    else:
        console.print(
            f"cheapest setting meeting the target: {best['setting']} "
            f"({target.metric} = {best['mean']:.1f})"
        )
