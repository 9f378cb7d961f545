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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report import plots, text
from cartsim.report.describe import description
from cartsim.report.folder import Tables, read_run
from cartsim.report.plots.common import shown
from cartsim.runs.atomic import write_text

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
DEFAULT_WTP = 50_000.0  # EUR per QALY, used for the plane only when the scenario states none
Block = dict[str, Any]
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


@dataclass
class Section:
    """A part of the report: an anchor, a heading and its blocks (data for the template)."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    """Figures are numbered as they are added; ``count`` ends on ``<body data-figures>``."""

    count: int = 0

    def figure(self, fig: go.Figure | None, caption: str, missing: str = "") -> Block:
        """A figure block, or a note that it is missing (an empty note: nothing shown)."""
        if fig is None:
            return {"kind": "missing", "text": missing} if missing else {"kind": "none"}
        self.count += 1
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.count == 1,  # plotly.js once, before the first figure's script
            config=PLOTLY_CONFIG,
            div_id=f"figure-{self.count}",
        )
        # The only markup let through unescaped: plotly's own HTML and script. Every text in it
        # (titles, labels, hover text) was escaped with plots.common.esc before the figure was
        # built, and plotly writes the figure's data as JSON, escaped for a script element.
        return {"kind": "figure", "number": self.count, "html": Markup(div), "caption": caption}


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
    return [  # in page order: figures are numbered as they are made
        Section("kpis", "Headline results", [{"kind": "kpis", **kpis} if kpis else missing_kpis]),
        flow_section(t, page),
        capacity_section(t, page, currency),
        clinical_section(t, page, scenario),
        value_section(t, page, scenario, currency),
        Section(
            "parameters",
            "Parameters",
            [parameter_block(scenario, manifest["parameters_used"])],
        ),
        description_section(manifest, t),
    ]


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
        page.figure(
            plots.plot_sweep(t["sweep"], sweep_metrics(t["sweep"]), currency),
            "Headline results across the settings of the sweep (all metrics: sweep.parquet).",
        ),
    ]
    return Section("capacity", "Capacity", blocks)


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


def parameter_block(scenario: Mapping[str, Any], used: list[str] | None = None) -> Block:
    table = text.parameter_table(scenario["parameters"], used)
    if table is None:
        return {"kind": "missing", "text": "The scenario lists no parameters."}
    return {"kind": "parameters", **table}


def description_section(manifest: Mapping[str, Any], t: Tables) -> Section:
    outputs = [f"{n}.parquet" for n, frame in t.items() if frame is not None]
    analyses = [
        label
        for name, label in (
            ("psa", "probabilistic sensitivity analysis"),
            ("dsa", "one-way sensitivity analysis"),
            ("sweep", "scenario sweep"),
        )
        if t[name] is not None
    ]
    patients = t["patients"]
    has_qalys = patients is not None and "qaly_total" in patients.columns
    blocks = [description(manifest, outputs, has_qalys, analyses)]
    return Section("model", "Model description", blocks)
