"""What the command line prints on the console: run summaries and the headline of each study.

Every figure carries its unit (days, patients, shares, money of the scenario's currency and
price year).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from cartsim.inputs.scenario import Scenario

from cartsim.inputs.units import DAYS_PER_YEAR

console = Console()


def print_summary(model: Scenario, kpis: pd.DataFrame) -> None:
    """Mean wait per stage, vein-to-vein, utilisation, and deaths and dropouts while waiting."""
    import pandas as pd

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
    import pandas as pd

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
    import pandas as pd

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


def print_sweep(
    frames: dict[str, pd.DataFrame], model: Scenario, unpriced: list[str], level: float = 0.95
) -> None:
    """The whole grid with each setting's verdict on every target, and the setting chosen."""
    import pandas as pd

    decision, judged = frames.get("sweep_decision"), frames.get("sweep_targets")
    if decision is None or judged is None:
        return
    money = f"{model.currency} {model.price_year}"
    out = Table(title=f"{model.name}: sweep verdicts ({level:.0%} CIs; worst year where per year)")
    for column in ("setting", "reps", "capacity", f"capacity cost a year ({money})"):
        out.add_column(column, justify="left" if column == "setting" else "right")
    labels = list(pd.unique(judged["target"]))
    for label in labels:
        out.add_column(f"{label}: mean (CI)", justify="right")
    out.add_column("verdict")
    by_setting = judged.set_index(["setting_id", "target"])
    for _, row in decision.iterrows():
        cells = []
        for label in labels:
            r = by_setting.loc[(row["setting_id"], label)]
            year = f" y{r['worst_referral_year']:.0f}" if pd.notna(r["worst_referral_year"]) else ""
            cells.append(f"{r['mean']:,.1f} ({r['ci_low']:,.1f}–{r['ci_high']:,.1f}){year}")
        verdict = str(row["verdict"]) + (" ← chosen" if row["chosen"] else "")
        out.add_row(
            short(str(row["setting"])), str(row["replications"]), str(row["capacity"]),
            f"{row['capacity_cost_per_year']:,.0f}", *cells, verdict,
        )  # fmt: skip
    console.print(out)
    chosen = decision[decision["chosen"]]
    if len(chosen):
        console.print(f"chosen setting (smallest capacity meeting every target): "
                      f"{chosen['setting'].iloc[0]}")  # fmt: skip
    else:
        console.print("no setting meets every target with the stated confidence")
    if unpriced:
        console.print(
            f"warning: {', '.join(unpriced)} ha{'s' if len(unpriced) == 1 else 've'} no "
            "cost_per_unit_per_year: ties are broken by capacity alone"
        )


def short(setting: str) -> str:
    """``resources.manufacturing.capacity=2`` → ``manufacturing.capacity=2`` (each path; a
    site's resource keeps its site: ``north.manufacturing.capacity=2``)."""
    parts = [p.split(".") for p in setting.split(", ")]
    return ", ".join(".".join(([p[1]] if p[0] == "sites" else []) + p[-2:]) for p in parts)


def print_worst_years(by_year: pd.DataFrame) -> None:
    """The worst referral year of the 90th-centile vein-to-vein time of each arm, with its CI."""
    import numpy as np

    rows = by_year[
        (by_year["period_kind"] == "referral_year")
        & (by_year["metric"] == "p90_vein_to_vein_days")
        & by_year["mean"].notna()
    ]
    for arm, group in rows.groupby("arm", sort=False):
        worst = group.iloc[int(np.argmax(group["mean"].to_numpy()))]
        console.print(
            f"arm {arm}: worst year of referral is year {worst['period']} of the run: "
            f"vein-to-vein 90th centile "
            f"{worst['mean']:,.1f} days (95% CI {worst['ci_low']:,.1f}–{worst['ci_high']:,.1f})"
        )


def print_targets(targets: pd.DataFrame) -> None:
    """Each planning target of the scenario: met or not, and with what confidence."""
    from cartsim.report.text import target_sentence

    for row in targets.to_dict("records"):
        console.print(f"target {target_sentence(row)}")


def print_comparison(tables: dict[str, pd.DataFrame], names: list[str]) -> None:
    """The headline measures of two scenarios side by side, their paired difference, and each
    scenario's targets."""
    from cartsim.report.text import target_sentence

    table = tables["comparison"]
    rows = table[(table["period"] == "all") & table["metric"].isin(COMPARED)]
    out = Table(title=f"{names[0]} vs {names[1]}: mean per replication (95% CI)")
    out.add_column("measure")
    labels = [*names, f"{names[1]} - {names[0]}"]
    for label in labels:
        out.add_column(label, justify="right")
    for (arm, metric), group in rows.groupby(["arm", "metric"], sort=False):
        cells = {r["scenario"]: r for r in group.to_dict("records")}
        out.add_row(f"{metric} ({arm})", *[_mean_ci(cells.get(n)) for n in labels])
    console.print(out)
    verdicts = tables.get("comparison_targets")
    for row in verdicts.to_dict("records") if verdicts is not None else []:
        console.print(f"{row['scenario']}: target {target_sentence(row)}")


def _mean_ci(row: Mapping[Any, Any] | None) -> str:
    if row is None:
        return ""
    return f"{row['mean']:,.1f} ({row['ci_low']:,.1f}–{row['ci_high']:,.1f})"


COMPARED = ("treated", "dropped_out", "median_vein_to_vein_days", "p90_vein_to_vein_days",
            "mean_cost_total")  # fmt: skip


def print_evppi(table: pd.DataFrame, money: str, top: int = 10) -> None:
    """The ``top`` parameters and groups by EVPPI, per patient and for the population."""
    wtp = float(table["wtp"].iloc[0]) if len(table) else float("nan")
    out = Table(title=f"EVPPI at {wtp:,.0f} {money} per QALY, largest {top} ({money})")
    for column in ("parameter or group", "per patient", "SE", "population", "SE ", "method"):
        out.add_column(column, justify="left" if column in ("parameter or group", "method")
                       else "right")  # fmt: skip
    for _, r in table.head(top).iterrows():
        out.add_row(str(r["group"]), f"{r['evppi_per_patient']:,.0f}",
                    f"{r['se_per_patient']:,.0f}", f"{r['evppi_population']:,.0f}",
                    f"{r['se_population']:,.0f}", str(r["method"]))  # fmt: skip
    console.print(out)


def print_threshold(table: pd.DataFrame, money: str) -> None:
    """Per comparator: the threshold value with its CI, the headroom and the method."""
    if not len(table):
        return
    first = table.iloc[0]
    unit = first.get("unit") or "parameter's unit"
    out = Table(
        title=f"threshold of {first['parameter']} for {first['arm']} at {first['wtp']:,.0f} "
        f"{money} per QALY ({unit}; {first['level']:.0%} CI)"
    )
    for column in ("comparator", "base value", "threshold", "CI", "headroom", "method"):
        out.add_column(column, justify="left" if column in ("comparator", "method") else "right")
    for _, r in table.iterrows():
        out.add_row(str(r["comparator"]), f"{r['base_value']:,.6g}", f"{r['threshold']:,.6g}",
                    f"{r['threshold_ci_low']:,.6g} – {r['threshold_ci_high']:,.6g}",
                    f"{r['headroom']:,.6g}", str(r["method"]))  # fmt: skip
    console.print(out)


def noise_guidance(noise: pd.DataFrame | None, limit: float) -> str | None:
    """A line of advice when patient-level noise is more than ``limit`` of the spread of INMB
    (``psa_noise.parquet``), else None."""
    if noise is None or not len(noise) or noise["noise_share"].isna().all():
        return None
    worst = noise.iloc[int(noise["noise_share"].fillna(-1.0).to_numpy().argmax())]
    share = float(worst["noise_share"])
    if share <= limit:
        return None
    reps = int(worst["replications"])
    # noise variance falls as 1/R: the replications that bring it down to the limit
    needed = max(reps + 1, math.ceil(reps * share * (1 - limit) / (limit * (1 - share))))
    return (
        f"patient-level noise is {share:.0%} of the spread of INMB ({worst['comparison']}): "
        f"use --replications {needed} or more per iteration"
    )


def print_noise_guidance(noise: pd.DataFrame | None) -> None:
    """Print :func:`noise_guidance` at the limit ``NOISE_GUIDANCE`` (nothing when it is small)."""
    from cartsim.decide.psa import NOISE_GUIDANCE

    if line := noise_guidance(noise, NOISE_GUIDANCE):
        console.print(line)


def print_scenarios(table: pd.DataFrame, model: Scenario) -> None:
    """Scenario analyses: incremental cost, QALYs, ICER and INMB with its 95% CI."""
    import pandas as pd

    money = f"{model.currency} {model.price_year}"
    out = Table(title=f"{model.name}: scenario analyses, per patient ({money}, 95% paired CI)")
    for column in ("scenario", "comparison", "Δ cost", "Δ QALYs", "ICER", "INMB", "INMB 95% CI"):
        out.add_column(column, justify="left" if column in ("scenario", "comparison") else "right")
    for _, r in table.iterrows():
        icer = {"SE": "dominant", "NW": "dominated"}.get(str(r["quadrant"]))
        icer = icer or (f"{r['icer']:,.0f}" if pd.notna(r["icer"]) else "—")
        out.add_row(
            str(r["scenario"]), str(r["comparison"]), f"{r['delta_cost']:,.0f}",
            f"{r['delta_qaly']:.3f}", icer, f"{r['inmb']:,.0f}",
            f"{r['inmb_ci_low']:,.0f} to {r['inmb_ci_high']:,.0f}",
        )  # fmt: skip
    console.print(out)
