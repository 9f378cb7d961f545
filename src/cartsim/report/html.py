"""The interactive report: one self-contained ``report.html`` assembled from a run folder.

The report reads the saved tables of a run (never re-simulates) through
:mod:`cartsim.report.folder`, which validates the manifest and checks the tables, since a run
folder may come from someone else. It asks :mod:`cartsim.report.plots` for its figures and
:mod:`cartsim.report.text` for the text, and renders ``templates/report.html.j2`` with jinja2
(autoescape on, undefined names an error): every value from the folder is escaped; only the
plotly HTML of a figure is marked safe. plotly.js is embedded once, with the first figure, so
the file opens offline. Large tables are sampled for display (the event log: the first
replication only, of which :func:`cartsim.report.plots.plot_journeys` draws 30 patients; the
cost-effectiveness plane: at most 2,000 points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from cartsim.inputs.errors import CartsimError
from cartsim.inputs.money_view import money_view
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report import decision, plots, text
from cartsim.report.comparison import comparison_section
from cartsim.report.describe import description
from cartsim.report.folder import Tables, read_run
from cartsim.report.page import Block, Page, Section
from cartsim.report.plots.common import shown
from cartsim.report.scenario_sections import scenario_sections
from cartsim.report.sites import site_section, target_blocks
from cartsim.runs.atomic import write_text

DEFAULT_WTP = 50_000.0  # EUR per QALY, used for the plane only when the scenario states none
SWEEP_METRICS = (
    "treated",
    "median_vein_to_vein_days",
    "p90_vein_to_vein_days",
    "mean_referral_to_treatment_days",
    "died_waiting",
    "dropped_out",
    "utilisation_*",
    "mean_cost_total",
    "mean_qaly_total",
)


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("cartsim.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    undefined=jinja2.StrictUndefined,
    finalize=shown,  # None and NaN show as nothing, as with plots.common.esc
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(number=text.number, fmt=text.fmt, dist=text.dist_text)
ENV.globals.update(not_stated=text.NOT_STATED, status_key=text.STATUS_KEY)


def write_report(run_dir: Path) -> Path:
    """Write ``report.html`` into the run folder ``run_dir`` and return its path.

    Raises
    ------
    CartsimError
        When the manifest or a table of the folder is missing, unreadable or malformed.
    """
    run_dir = Path(run_dir)
    manifest, tables = read_run(run_dir)
    warmup = manifest["scenario"]["run"]["warmup_days"]
    tables["patients"] = referred_after(tables["patients"], warmup)
    page = Page()
    sections = build_sections(manifest, tables, page)
    html = ENV.get_template("report.html.j2").render(
        manifest=manifest, scenario=manifest["scenario"], sections=sections, figures=page.count
    )
    path = run_dir / "report.html"
    return write_text(path, html)


def referred_after(patients: pd.DataFrame | None, warmup_days: float) -> pd.DataFrame | None:
    """Patients referred after the warm-up: the cohort the headline results count."""
    if patients is None or "arrival_day" not in patients or not warmup_days:
        return patients
    return patients[patients["arrival_day"] >= warmup_days].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def build_sections(manifest: Mapping[str, Any], t: Tables, page: Page) -> list[Section]:
    scenario = manifest["scenario"]
    currency = f"{shown(scenario['currency'])} {shown(scenario['price_year'])}".strip()
    labels = {str(k): str(shown(v["label"])) for k, v in scenario["arms"].items()}
    kpis = text.kpi_table(t["kpis"], labels, currency)
    missing_kpis = {"kind": "missing", "text": "No KPI table (kpis.parquet) in this run folder."}
    headline = [
        *target_blocks(t.get("targets")),
        {"kind": "kpis", **kpis} if kpis else missing_kpis,
    ]
    sections = [  # in page order: figures are numbered as they are made
        Section("kpis", "Headline results", headline),
        flow_section(t, page),
        capacity_section(t, page, currency),
        site_section(t, page, currency),
        clinical_section(t, page, scenario),
        value_section(t, page, scenario, currency),
        comparison_section(t, page, manifest, currency),
        *decision_sections(t, page, scenario, currency),
        *scenario_sections(t, page, currency),
        Section(
            "parameters",
            "Parameters",
            parameter_blocks(scenario, manifest["parameters_used"]),
        ),
        description_section(manifest, t),
    ]
    return [s for s in sections if s is not None]


def decision_sections(
    t: Tables, page: Page, scenario: Mapping[str, Any], currency: str
) -> list[Section]:
    """Uncertainty of the PSA, value of further information, thresholds and validation against
    published figures, where run."""
    wtp = text.find(scenario, "wtp_per_qaly", "wtp")
    wtp = float(wtp) if isinstance(wtp, int | float) else DEFAULT_WTP
    reference = (scenario["economics"] or {}).get("reference_arm")
    built = [
        decision.psa_uncertainty_section(t, page, currency, wtp, reference),
        decision.information_section(t, page, currency),
        decision.threshold_section(t, page, currency),
        decision.validation_section(t),
    ]
    return [Section(*b) for b in built if b is not None]


def flow_section(t: Tables, page: Page) -> Section:
    caption = "Where referred patients end up, per arm (mean patients per replication)."
    note = {
        "kind": "note",
        "text": "Figures of patients (flow, waits, clinical course, costs) count the patients "
        "referred after the warm-up, like the headline results.",
    }
    figure = page.figure(plots.plot_patient_flow(t["patients"]), caption)
    return Section("flow", "Patient flow", [note, figure])


def capacity_section(t: Tables, page: Page, currency: str) -> Section:
    blocks = [
        page.figure(
            plots.plot_resource_use(t["resources"]),
            "Resources in use and patients queueing over time: weekly means over replications "
            "with 95% confidence band; dashed: capacity.",
            "No resource series (resources.parquet) in this run.",
        ),
        page.figure(
            plots.plot_waits(t["patients"]),
            "Waits per stage and whole-pathway times per patient: box = quartiles, whiskers to "
            "1.5 × IQR, dashed = mean.",
        ),
        page.figure(
            plots.plot_journeys(t["events"]),
            "Journeys of a sample of patients of the first replication, from referral; grey: "
            "waiting in a queue; diamond: treatment.",
            "No event log (events.parquet) in this run; run without --no-events to see patient "
            "journeys.",
        ),
        page.figure(
            plots.plot_budget(t["budget"], currency),
            f"Mean spend per year by category ({currency}, undiscounted) and patients "
            "treated per year.",
        ),
        *year_blocks(t.get("kpis_by_year")),
        *sweep_blocks(t, page, currency),
    ]
    return Section("capacity", "Capacity", blocks)


YEAR_METRICS = ("referred", "treated", "median_vein_to_vein_days", "p90_vein_to_vein_days")


def year_blocks(by_year: pd.DataFrame | None) -> list[Block]:
    """Per year of referral: patients referred and treated, vein-to-vein median and 90th
    centile (days), each a mean over replications with its 95% CI."""
    if by_year is None:
        return []
    rows = by_year[(by_year["period_kind"] == "referral_year")]
    rows = rows[rows["metric"].isin(YEAR_METRICS)]
    if not len(rows):
        return []
    values = rows.set_index(["arm", "period", "metric"])[["mean", "ci_low", "ci_high"]]
    wide = values.unstack("metric")  # keeps intervals missing with one replication
    table = pd.DataFrame(index=wide.index)
    for metric in [m for m in YEAR_METRICS if ("mean", m) in wide.columns]:
        table[metric] = wide[("mean", metric)]
        table[f"{metric}_ci_low"] = wide[("ci_low", metric)]
        table[f"{metric}_ci_high"] = wide[("ci_high", metric)]
    table = table.reset_index().rename(columns={"period": "year of referral"})
    title = "Per year of referral (mean per replication, 95% CI; kpis_by_year.parquet)"
    table_ = text.frame_table(table, "")  # counts and days: no money
    return [{"kind": "incremental", "title": title, "table": table_}]


def sweep_blocks(t: Tables, page: Page, currency: str = "EUR") -> list[Block]:
    """The sweep's figure (pooled over years) with the targets drawn, and its verdicts."""
    sweep, decision = t["sweep"], t.get("sweep_decision")
    pooled = sweep
    if sweep is not None and "referral_year" in sweep:
        pooled = sweep[sweep["referral_year"].isna()]  # the grid's (numeric) order on the axis
        pooled = pooled.assign(setting_id=pd.factorize(pooled["setting"])[0])
    metrics = sweep_metrics(pooled)
    figure = plots.plot_sweep(pooled, metrics, currency)
    caption = "Headline results across the settings of the sweep (all metrics: sweep.parquet)."
    judged = t.get("sweep_targets")
    if figure is not None and judged is not None:
        for target in judged.drop_duplicates("target").itertuples():
            if str(target.metric) in metrics and not target.per_year:
                k = metrics.index(str(target.metric))
                bound = float(str(target.target).rsplit(" ", 1)[-1])
                figure.add_hline(y=bound, line_dash="dot", row=k // 2 + 1, col=k % 2 + 1)
        caption += " Dotted: the targets pooled over all years."
    if decision is not None and decision["chosen"].any():
        caption += f" Chosen: {decision.loc[decision['chosen'], 'setting'].iloc[0]}."
    blocks = [page.figure(figure, caption)]
    if decision is not None and judged is not None:
        blocks.append(
            {"kind": "incremental", "title": "Sweep verdicts", "table": text.frame_table(
                verdict_table(decision, judged), currency)}
        )  # fmt: skip
    return blocks


def verdict_table(decision: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """One row per setting: capacity, its cost, replications, the deciding value of each
    target with its CI (the worst year for a target per year) and the verdict."""
    table = decision[["setting_id", "setting", "replications", "capacity"]].copy()
    table["capacity_cost_per_year"] = decision["capacity_cost_per_year"]
    for label, rows in judged.groupby("target", sort=False):
        mine = rows.set_index("setting_id")
        for column, suffix in (("mean", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")):
            table[f"{label}{suffix}"] = table["setting_id"].map(mine[column])
    table["verdict"] = decision["verdict"].where(~decision["chosen"], "meets (chosen)")
    return table.drop(columns="setting_id")


def sweep_metrics(sweep: pd.DataFrame | None) -> list[str]:
    """The headline metrics of a sweep, in the order of ``SWEEP_METRICS`` (``*``: any)."""
    present = [] if sweep is None or "metric" not in sweep else list(pd.unique(sweep["metric"]))
    return [
        m
        for pattern in SWEEP_METRICS
        for m in present
        if m == pattern or (pattern.endswith("*") and m.startswith(pattern[:-1]))
    ]


def clinical_section(t: Tables, page: Page, scenario: Mapping[str, Any]) -> Section:
    blocks = [
        page.figure(
            plots.plot_outcomes(t["patients"], follow_up_days(scenario)),
            "Kaplan-Meier curves from treatment, by arm and disease, with 95% pointwise "
            "confidence bands (Greenwood), censored at the end of follow-up (the economic "
            "horizon, else the simulation horizon).",
            "Remission, relapse and survival curves appear once the patient table has "
            "response, relapse_day and death_day.",
        ),
        page.figure(
            plots.plot_adverse_events(t["patients"]),
            "Treated patients by grade of cytokine release syndrome (CRS) and ICANS.",
        ),
    ]
    return Section("clinical", "Clinical course", blocks)


def follow_up_days(scenario: Mapping[str, Any]) -> float:
    """Day (since day 0) up to which outcomes are followed: economic horizon, else the run's."""
    economics = scenario["economics"]
    if economics is not None:
        years = economics["horizon_years"]
        return math.inf if years is None else float(years) * DAYS_PER_YEAR
    horizon = scenario["run"]["horizon_days"]
    return math.inf if horizon is None else float(horizon)


def value_section(t: Tables, page: Page, scenario: Mapping[str, Any], currency: str) -> Section:
    wtp = text.find(scenario, "wtp_per_qaly", "wtp")
    wtp = float(wtp) if isinstance(wtp, int | float) else DEFAULT_WTP
    rate = (scenario["economics"] or {}).get("discount_rate_costs")
    discounting = f", discounted at {text.fmt(rate, 'share')} a year" if rate is not None else ""
    blocks = [
        page.figure(
            plots.plot_costs(t["patients"], currency),
            f"Mean cost per referred patient by category ({currency}{discounting}).",
            "Costs per patient appear once the patient table has cost_* columns.",
        )
    ]
    if t["incremental"] is not None and len(t["incremental"]):
        blocks += incremental_blocks(t["incremental"], currency)
    shortfall, compared = t.get("severity"), t.get("severity_comparisons")
    if shortfall is not None and compared is not None:
        blocks += severity_blocks(shortfall, compared, currency)
    blocks += [
        page.figure(
            plots.plot_ce_plane(t["psa"], wtp=wtp, currency=currency),
            f"Incremental cost and QALYs per PSA iteration (a sample of at most 2,000 points); "
            f"dashed: willingness to pay {wtp:,.0f} {currency} per QALY.",
        ),
        page.figure(
            plots.plot_ceac(t["ceac"], currency), "Probability that each arm is cost-effective."
        ),
        page.figure(plots.plot_evpi(t["evpi"], currency), "Expected value of perfect information."),
        page.figure(
            plots.plot_tornado(t["dsa"], currency=currency),
            "One-way sensitivity of the incremental net benefit.",
        ),
    ]
    if not any(t[n] is not None for n in ("incremental", "psa", "ceac", "evpi", "dsa")):
        blocks.append(
            {
                "kind": "missing",
                "text": "No decision analysis in this run (incremental, PSA, CEAC, EVPI or "
                "one-way sensitivity tables).",
            }
        )
    return Section("value", "Costs and value", blocks)


def incremental_blocks(frame: pd.DataFrame, currency: str = "EUR") -> list[Block]:
    """The incremental tables, one per kind of analysis, with every column that has a value."""
    parts = frame.groupby("analysis", sort=False) if "analysis" in frame else [("", frame)]
    out = []
    for name, part in parts:
        part = part.dropna(axis=1, how="all").drop(columns="analysis", errors="ignore")
        title = f"Incremental analysis: {name!s}" if name else "Incremental analysis"
        out.append(
            {"kind": "incremental", "title": title, "table": text.frame_table(part, currency)}
        )
    return out


def severity_blocks(shortfall: pd.DataFrame, compared: pd.DataFrame, money: str) -> list[Block]:
    """The QALY shortfall of current practice and the comparisons without and with its weight."""
    return [
        {"kind": "incremental", "title": "Severity modifier: QALY shortfall (NICE PMG36)",
         "table": text.frame_table(shortfall, money)},
        {"kind": "incremental", "title": "Against current practice, QALY gains unweighted "
         "(qaly_weight 1) and weighted", "table": text.frame_table(compared, money)},
    ]  # fmt: skip


def parameter_blocks(scenario: Mapping[str, Any], used: list[str] | None = None) -> list[Block]:
    """The parameter table in the scenario's money, after notes on what was converted."""
    params = scenario["parameters"]
    failed: list[str] = []
    try:
        view = money_view(scenario) if isinstance(params, Mapping) else None
    except CartsimError as exc:
        view, failed = None, [f"Money parameters are shown as found: {exc.message}."]
    table = text.parameter_table(params, used, view)
    if table is None:
        return [{"kind": "missing", "text": "The scenario lists no parameters."}]
    notes = view.notes() if view else failed  # after the table: with the free-text rates used
    return [*({"kind": "note", "text": n} for n in notes), {"kind": "parameters", **table}]


def description_section(manifest: Mapping[str, Any], t: Tables) -> Section:
    outputs = [f"{n}.parquet" for n, frame in t.items() if frame is not None]
    analyses = [
        label
        for name, label in (
            ("psa", "probabilistic sensitivity analysis"),
            ("dsa", "one-way sensitivity analysis"),
            ("sweep", "scenario sweep"),
            ("scenarios", "scenario analyses"),
        )
        if t[name] is not None
    ]
    patients = t["patients"]
    has_qalys = patients is not None and "qaly_total" in patients.columns
    blocks = [description(manifest, outputs, has_qalys, analyses, t["incremental"])]
    return Section("model", "Model description", blocks)
