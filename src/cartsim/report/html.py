"""The interactive report: one self-contained ``report.html`` assembled from a run folder.

The report reads the saved tables of a run (never re-simulates), asks
:mod:`cartsim.report.plots` for its figures and :mod:`cartsim.report.text` for the text, and
writes one HTML file with plotly.js embedded once, so it opens offline. Large tables are sampled
for display (the event log: the first replication only, of which
:func:`cartsim.report.plots.plot_journeys` draws 30 patients; the cost-effectiveness plane: at
most 2,000 points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report import plots, text
from cartsim.report.results import read_manifest, read_table
from cartsim.report.text import esc
from cartsim.runs.atomic import write_text

TABLES = (
    "patients",
    "resources",
    "kpis",
    "budget",
    "incremental",
    "psa",
    "ceac",
    "evpi",
    "dsa",
    "sweep",
)
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
DEFAULT_WTP = 50_000.0  # EUR per QALY, used for the plane only when the scenario states none
Tables = dict[str, pd.DataFrame | None]
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
    """A part of the report: an anchor, a heading and its blocks of HTML."""

    key: str
    title: str
    blocks: list[str] = field(default_factory=list)


@dataclass
class Page:
    """Figures are numbered as they are added; ``count`` ends on ``<body data-figures>``."""

    count: int = 0

    def figure(self, fig: go.Figure | None, caption: str, missing: str = "") -> str:
        if fig is None:
            return f'<p class="missing">{missing}</p>' if missing else ""
        self.count += 1
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            config=PLOTLY_CONFIG,
            div_id=f"figure-{self.count}",
        )
        return (
            f'<figure class="plot">{div}'
            f"<figcaption>Figure {self.count}. {caption}</figcaption></figure>"
        )


def write_report(run_dir: Path) -> Path:
    """Write ``report.html`` into the run folder ``run_dir`` and return its path."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    tables: Tables = {name: read_table(run_dir, name) for name in TABLES}
    tables["events"] = first_replication_events(run_dir)
    warmup = float(((manifest.get("scenario") or {}).get("run") or {}).get("warmup_days", 0.0))
    tables["patients"] = referred_after(tables["patients"], warmup)
    page = Page()
    sections = build_sections(manifest, tables, page)
    html = render(manifest, sections, page.count)
    path = run_dir / "report.html"
    return write_text(path, html)


def referred_after(patients: pd.DataFrame | None, warmup_days: float) -> pd.DataFrame | None:
    """Patients referred after the warm-up: the cohort the headline results count."""
    if patients is None or "arrival_day" not in patients or not warmup_days:
        return patients
    return patients[patients["arrival_day"] >= warmup_days].reset_index(drop=True)


def first_replication_events(run_dir: Path) -> pd.DataFrame | None:
    """The event log of the first replication only (the journeys plot draws from it)."""
    path = run_dir / "events.parquet"
    if not path.is_file():
        return None
    reps = pd.read_parquet(path, columns=["replication"])["replication"]
    if not len(reps):
        return None
    return pd.read_parquet(path, filters=[("replication", "==", int(reps.min()))])


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def build_sections(manifest: Mapping[str, Any], t: Tables, page: Page) -> list[Section]:
    scenario = manifest.get("scenario") or {}
    currency = f"{scenario.get('currency', 'EUR')} {scenario.get('price_year', '')}".strip()
    labels = {str(k): str(v.get("label", "")) for k, v in (scenario.get("arms") or {}).items()}
    return [  # in page order: figures are numbered as they are made
        Section("kpis", "Headline results", [text.kpi_panel(t["kpis"], labels, currency)]),
        flow_section(t, page),
        capacity_section(t, page, currency),
        clinical_section(t, page, scenario),
        value_section(t, page, scenario, currency),
        Section(
            "parameters",
            "Parameters",
            [parameter_block(scenario, manifest.get("parameters_used"))],
        ),
        description_section(manifest, t),
    ]


def flow_section(t: Tables, page: Page) -> Section:
    caption = "Where referred patients end up, per arm (mean patients per replication)."
    note = (
        "<p class='note'>Figures of patients (flow, waits, clinical course, costs) count the "
        "patients referred after the warm-up, like the headline results.</p>"
    )
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
            "No event log (events.parquet) in this run; run with <code>--events</code> to see "
            "patient journeys.",
        ),
        page.figure(
            plots.plot_budget(t["budget"], currency),
            f"Mean spend per year by category ({esc(currency)}, undiscounted) and patients "
            "treated per year.",
        ),
        page.figure(
            plots.plot_sweep(t["sweep"], sweep_metrics(t["sweep"])),
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
            "Kaplan-Meier curves from treatment, by arm and disease, censored at the end of "
            "follow-up (the economic horizon, else the simulation horizon).",
            "Remission, relapse and survival curves appear once the patient table has "
            "<code>response</code>, <code>relapse_day</code> and <code>death_day</code>.",
        ),
        page.figure(
            plots.plot_adverse_events(t["patients"]),
            "Treated patients by grade of cytokine release syndrome (CRS) and ICANS.",
        ),
    ]
    return Section("clinical", "Clinical course", blocks)


def follow_up_days(scenario: Mapping[str, Any]) -> float:
    """Day (since day 0) up to which outcomes are followed: economic horizon, else the run's."""
    economics = scenario.get("economics")
    if economics is not None:
        years = economics.get("horizon_years")
        return math.inf if years is None else float(years) * DAYS_PER_YEAR
    return float((scenario.get("run") or {}).get("horizon_days", math.inf))


def value_section(t: Tables, page: Page, scenario: Mapping[str, Any], currency: str) -> Section:
    wtp = text.find(scenario, "wtp_per_qaly", "wtp")
    wtp = float(wtp) if isinstance(wtp, int | float) else DEFAULT_WTP
    rate = (scenario.get("economics") or {}).get("discount_rate_costs")
    discounting = f", discounted at {text.fmt(rate, 'share')} a year" if rate is not None else ""
    blocks = [
        page.figure(
            plots.plot_costs(t["patients"], currency),
            f"Mean cost per referred patient by category ({esc(currency)}{discounting}).",
            "Costs per patient appear once the patient table has <code>cost_*</code> columns.",
        )
    ]
    if t["incremental"] is not None and len(t["incremental"]):
        blocks.append(incremental_block(t["incremental"]))
    blocks += [
        page.figure(
            plots.plot_ce_plane(t["psa"], wtp=wtp),
            f"Incremental cost and QALYs per PSA iteration (a sample of at most 2,000 points); "
            f"dashed: willingness to pay {wtp:,.0f} EUR per QALY.",
        ),
        page.figure(plots.plot_ceac(t["ceac"]), "Probability that each arm is cost-effective."),
        page.figure(plots.plot_evpi(t["evpi"]), "Expected value of perfect information."),
        page.figure(
            plots.plot_tornado(t["dsa"]), "One-way sensitivity of the incremental net benefit."
        ),
    ]
    if not any(t[n] is not None for n in ("incremental", "psa", "ceac", "evpi", "dsa")):
        blocks.append(
            '<p class="missing">No decision analysis in this run (incremental, PSA, CEAC, EVPI or '
            "one-way sensitivity tables).</p>"
        )
    return Section("value", "Costs and value", blocks)


def incremental_block(frame: pd.DataFrame) -> str:
    """The incremental tables, one per kind of analysis, with every column that has a value."""
    parts = frame.groupby("analysis", sort=False) if "analysis" in frame else [("", frame)]
    out = []
    for name, part in parts:
        part = part.dropna(axis=1, how="all").drop(columns="analysis", errors="ignore")
        title = f"Incremental analysis: {esc(name)}" if name else "Incremental analysis"
        out.append(f"<h3>{title}</h3>" + text.frame_table(part))
    return "".join(out)


def parameter_block(scenario: Mapping[str, Any], used: Sequence[str] | None = None) -> str:
    return text.parameter_table(scenario.get("parameters") or {}, used)


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
    blocks = [
        "<h3>Simulation (STRESS-DES)</h3>" + text.checklist(text.stress_des(manifest, outputs)),
        "<h3>Economic evaluation (CHEERS 2022)</h3>"
        + text.checklist(text.cheers(manifest, has_qalys, analyses)),
    ]
    return Section("model", "Model description", blocks)


# ---------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2733;margin:0;
  background:#f6f7f9;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem;font-size:1.6rem} header p{margin:.2rem 0;opacity:.9}
nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid #dde1e6;
  padding:.5rem 2rem}
nav a{margin-right:1.2rem;color:#1f3a5f;text-decoration:none;font-weight:600}
main{max-width:1280px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:1rem 1.5rem;
  margin:1.2rem 0}
section,figure{scroll-margin-top:3rem} h2{margin-top:.2rem;color:#1f3a5f}
figure{margin:1rem 0} figcaption{color:#4a5563;font-size:.9rem}
table{border-collapse:collapse;font-size:.88rem;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#eef1f5;position:sticky;top:0}
table.kpi td{text-align:right} table.kpi td:first-child{text-align:left}
table.kpi .v{font-size:1.1rem;font-weight:600;display:block}
.ci,.unit{color:#5b6673;font-size:.8rem} table.compact .ci{display:block}
.scroll{overflow:auto} .tall{max-height:34rem} .note{color:#5b6673;font-size:.85rem}
.missing{color:#6b7480;font-style:italic} table.checklist td:first-child{width:14rem}
table.params code{font-size:.78rem;word-break:break-all} table.params td:first-child{width:13rem}
#param-filter{margin:.3rem 0 .6rem;padding:.3rem .5rem;width:20rem}
"""

FILTER_JS = """
document.getElementById('param-filter')?.addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('table.params tbody tr').forEach(function (row) {
    row.style.display = row.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
  });
});
"""


def render(manifest: Mapping[str, Any], sections: list[Section], figures: int) -> str:
    scenario = manifest.get("scenario") or {}
    name = esc(scenario.get("name", "run"))
    nav = "".join(f'<a href="#{s.key}">{esc(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.key}"><h2>{esc(s.title)}</h2>{"".join(s.blocks)}</section>'
        for s in sections
    )
    facts = (
        f"{esc(manifest.get('replications'))} replications · seed {esc(manifest.get('seed'))} · "
        f"cartsim {esc(manifest.get('cartsim_version'))} · run {esc(manifest.get('started'))}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>cartsim report: {name}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
        f'<body data-figures="{figures}"><header><h1>cartsim report: <span id="scenario-name">'
        f"{name}</span></h1><p>{esc(scenario.get('description', ''))}</p><p>{facts}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main><script>{FILTER_JS}</script></body></html>"
    )
