"""The text parts of the report: headline KPIs, tables and the model description, as HTML.

Everything taken from a scenario file, the manifest or a table passes through :func:`esc`
(``html.escape``) before it reaches the page. The model description follows the STRESS-DES
checklist (Monks et al. 2019) for the simulation and CHEERS 2022 (Husereau et al.) for the
economic evaluation; an item the scenario does not state is reported as "not stated".
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

NOT_STATED = "not stated"
STATUS_KEY = {
    "F": "found in the source cited",
    "F2": "found only in a secondary or low-quality page",
    "B": "as summarised in press coverage, not re-checked in the paper",
    "M": "commonly cited, not verified against the source",
    "E": "estimate or derivation, no direct source",
}
CI_SUFFIXES = ("_ci_low", "_ci_high")


def esc(value: object) -> str:
    """Text for the page: HTML-escaped, with None and NaN as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def fmt(value: Any, unit: str = "") -> str:
    """A number for reading: shares as percentages, money and whole numbers without decimals."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return esc(value)
    x = float(value)
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit.startswith("EUR") or abs(x) >= 10_000 or (x.is_integer() and unit != "QALYs"):
        return f"{x:,.0f}"
    if unit == "QALYs":
        return f"{x:.3f}"
    return f"{x:.1f}" if unit in ("days", "patients") or abs(x) >= 1 else f"{x:.3g}"


def number(value: Any) -> str:
    """A scenario value as written (up to 6 significant digits)."""
    return (
        f"{value:.6g}"
        if isinstance(value, float | int) and not isinstance(value, bool)
        else esc(value)
    )


def table(header: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "data") -> str:
    """An HTML table from cells that are already HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def find(tree: Any, *names: str) -> Any:
    """The first value stored under any of ``names`` anywhere in ``tree`` (not in parameters)."""
    if isinstance(tree, Mapping):
        for name in names:
            if tree.get(name) is not None:
                return tree[name]
        for key, child in tree.items():
            found = None if key == "parameters" else find(child, *names)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------------------------------
# Headline KPIs
# ---------------------------------------------------------------------------------------------


def kpi_rows(metrics: list[str], currency: str) -> list[tuple[str, str, str]]:
    """``(metric, label, unit)`` of the headline measures present in ``metrics``, in order."""
    waits = [m for m in metrics if m.startswith("mean_wait_") and m.endswith("_days")]
    used = [m for m in metrics if m.startswith("utilisation_")]
    rows = [
        ("referred", "patients referred", "patients"),
        ("treated", "patients treated", "patients"),
        ("median_vein_to_vein_days", "vein-to-vein time, median", "days"),
        ("p90_vein_to_vein_days", "vein-to-vein time, 90th centile", "days"),
        ("mean_referral_to_treatment_days", "referral to treatment, mean", "days"),
        *((m, f"wait for {esc(m[10:-5])}, mean", "days") for m in waits),
        *((m, f"utilisation of {esc(m[12:])}", "share") for m in used),
        ("died_waiting", "died while waiting", "patients"),
        ("dropped_out", "dropped out while waiting", "patients"),
        ("failed", "product failed, untreated", "patients"),
        ("mean_cost_total", "cost per referred patient, mean (discounted)", currency),
        ("mean_qaly_total", "QALYs per referred patient, mean (discounted)", "QALYs"),
    ]
    return [r for r in rows if r[0] in metrics]


def _kpi_cell(row: pd.Series, unit: str) -> str:
    ci = ""
    if pd.notna(row["ci_low"]):
        low = max(0.0, float(row["ci_low"]))  # every headline measure is >= 0
        ci = f"<span class='ci'>{fmt(low, unit)} – {fmt(row['ci_high'], unit)}</span>"
    return f"<span class='v'>{fmt(row['mean'], unit)}</span>{ci}"


def kpi_panel(kpis: pd.DataFrame | None, arm_labels: Mapping[str, str], currency: str) -> str:
    """Table of headline measures: one column per arm, mean and 95% CI in each cell."""
    need = {"arm", "metric", "mean", "ci_low", "ci_high"}
    if kpis is None or not need <= set(kpis.columns) or not len(kpis):
        return '<p class="missing">No KPI table (kpis.parquet) in this run folder.</p>'
    arms = list(pd.unique(kpis["arm"]))
    cells = kpis.drop_duplicates(["metric", "arm"]).set_index(["metric", "arm"])
    rows = []
    for metric, label, unit in kpi_rows(list(pd.unique(kpis["metric"])), currency):
        row = [f"{label} <span class='unit'>({esc(unit)})</span>"]
        for arm in arms:
            found = (metric, arm) in cells.index
            row.append(_kpi_cell(cells.loc[(metric, arm)], unit) if found else "–")
        rows.append(row)
    header = ["measure", *(_arm_header(a, arm_labels) for a in arms)]
    n = kpis["n_replications"].max() if "n_replications" in kpis else "several"
    note = (
        f"Mean over {esc(n)} replications, patients referred after the warm-up; small print: "
        "95% confidence interval (t). Counts are patients per replication."
    )
    return table(header, rows, "kpi") + f"<p class='note'>{note}</p>"


def _arm_header(arm: Any, labels: Mapping[str, str]) -> str:
    label = labels.get(str(arm))
    return f"{esc(arm)}<br><span class='unit'>{esc(label)}</span>" if label else esc(arm)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _column_unit(column: str) -> str:
    name = column.lower()
    if "icer" in name or name == "wtp":
        return "EUR per QALY"
    if "qaly" in name:
        return "QALYs"
    return "EUR" if any(k in name for k in ("cost", "nmb", "icer")) else ""


def frame_table(frame: pd.DataFrame) -> str:
    """Every column of a small table; ``x_ci_low`` and ``x_ci_high`` go in the cell of ``x``."""
    ci = {
        c
        for c in frame.columns
        for suffix in CI_SUFFIXES
        if c.endswith(suffix) and c.removesuffix(suffix) in frame.columns
    }
    shown = [c for c in frame.columns if c not in ci]
    header = [f"{esc(c)} <span class='unit'>{_column_unit(c)}</span>" for c in shown]
    rows = []
    for _, rec in frame.iterrows():
        row = []
        for c in shown:
            cell, unit = fmt(rec[c], _column_unit(c)), _column_unit(c)
            if f"{c}_ci_low" in ci and pd.notna(rec[f"{c}_ci_low"]):
                low, high = fmt(rec[f"{c}_ci_low"], unit), fmt(rec[f"{c}_ci_high"], unit)
                cell += f"<span class='ci'>{low} – {high}</span>"
            row.append(cell)
        rows.append(row)
    note = "<p class='note'>Small print: 95% confidence interval over replications.</p>"
    return f'<div class="scroll">{table(header, rows, "data compact")}</div>' + (note if ci else "")


def dist_text(spec: Any) -> str:
    """A duration or distribution spec as text: ``lognormal(mean=13, sd=2)``."""
    if isinstance(spec, Mapping) and "dist" in spec:
        args = [f"{k}={number(v)}" for k, v in spec.items() if k != "dist" and v is not None]
        return f"{esc(spec['dist'])}({', '.join(args)})"
    return number(spec)


def parameter_table(
    parameters: Mapping[str, Mapping[str, Any]], used: Sequence[str] | None = None
) -> str:
    """The evidence behind the scenario: one row per parameter with its source and status,
    and whether the model uses it (``used``: names some field refers to; None: unknown)."""
    if not parameters:
        return '<p class="missing">The scenario lists no parameters.</p>'
    header = ["name", "value", "unit", "description", "source", "status", "estimate", "PSA"]
    in_use = set(used) if used is not None else None
    if in_use is not None:
        header.append("used by the model")
    rows = []
    for name, p in parameters.items():
        status = esc(p.get("status"))
        rows.append(
            [
                f"<code>{esc(name)}</code>",
                number(p.get("value")),
                esc(p.get("unit")),
                esc(p.get("description")),
                esc(p.get("source")),
                f"<span title='{esc(STATUS_KEY.get(status, ''))}'>{status}</span>",
                "yes" if p.get("estimate") else "",
                dist_text(p["psa"]) if p.get("psa") else "",
                *([] if in_use is None else ["yes" if name in in_use else "no (context)"]),
            ]
        )
    key = "; ".join(f"<b>{k}</b> {v}" for k, v in STATUS_KEY.items())
    return (
        '<input type="search" id="param-filter" placeholder="filter parameters…">'
        f"<div class='scroll tall'>{table(header, rows, 'data params')}</div>"
        f"<p class='note'>Status: {key}. PSA: distribution for probabilistic analysis.</p>"
    )


# ---------------------------------------------------------------------------------------------
# Model description (STRESS-DES, CHEERS 2022)
# ---------------------------------------------------------------------------------------------


def _stage_text(stage: Mapping[str, Any]) -> str:
    out = f"<b>{esc(stage.get('name'))}</b> ({esc(stage.get('kind'))}"
    if stage.get("resource"):
        out += f", resource {esc(stage['resource'])}"
    if stage.get("duration") is not None:
        out += f", duration {dist_text(stage['duration'])} days"
    out += ")"
    if stage.get("treatment_day") is not None:
        out += f"; the treatment acts on day {number(stage['treatment_day'])} of the stay"
    if costs := stage.get("costs"):
        out += "; costs " + ", ".join(f"{esc(k)} {number(v)}" for k, v in costs.items())
    if failure := stage.get("failure"):
        out += (
            f"; fails with p={number(failure.get('probability'))}, back to "
            f"{esc(failure.get('back_to'))}, at most {esc(failure.get('max_attempts'))} attempts"
        )
    if icu := stage.get("icu"):
        out += (
            f"; ICU ({esc(icu.get('resource'))}) when CRS ≥ {esc(icu.get('crs_grade_at_least'))}"
            f" or ICANS ≥ {esc(icu.get('icans_grade_at_least'))}"
            + (f", or by chance p={number(icu['probability'])}" if icu.get("probability") else "")
            + f", stay {dist_text(icu.get('duration'))} days"
        )
    return out


def _arms_text(s: Mapping[str, Any]) -> str:
    items = []
    for name, arm in (s.get("arms") or {}).items():
        label = f" – {esc(arm['label'])}" if arm.get("label") else ""
        stages = " → ".join(_stage_text(stage) for stage in arm.get("stages", []))
        items.append(f"<b>{esc(name)}</b>{label}: {stages}")
    return bullets(items) if items else NOT_STATED


def _resources_text(s: Mapping[str, Any]) -> str:
    items = []
    for name, res in (s.get("resources") or {}).items():
        cal = res.get("calendar") or {}
        days = ", ".join(esc(d) for d in cal.get("open_days", []))
        hours = "–".join(number(h) for h in cal.get("hours", []))
        items.append(
            f"<b>{esc(name)}</b>: capacity {esc(res.get('capacity'))}; service starts {days}, "
            f"{hours} h. {esc(res.get('description'))}"
        )
    rule = "Queues are first come, first served; service starts only while a resource is open."
    return (bullets(items) if items else "No limited resources. ") + rule


def _demand_text(s: Mapping[str, Any]) -> str:
    return bullets(
        f"<b>{esc(d)}</b>: {esc(v.get('rate_per_year'))} referrals per year (Poisson), age "
        f"{dist_text(v.get('age'))} years, {fmt(v.get('female'), 'share')} female"
        for d, v in (s.get("demand") or {}).items()
    )


def _by_disease(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{esc(k)} {number(v)}" for k, v in value.items())
    return NOT_STATED if value is None else number(value)


def _exits_text(s: Mapping[str, Any]) -> str:
    waiting = s.get("waiting") or {}
    death = f"hazard per day: {_by_disease(waiting.get('death_hazard_per_day'))}"
    if s.get("mortality"):
        death = "general-population Gompertz hazard × SMR of active disease"
    return (
        f"Referrals: {_demand_text(s)}While waiting for treatment patients may die ({death}) or "
        f"drop out (hazard per day: {_by_disease(waiting.get('dropout_hazard_per_day'))}). "
        "Patients leave after the last stage of their arm, or when found not eligible or out of "
        "manufacturing attempts."
    )


def _course_text(s: Mapping[str, Any]) -> str:
    items = [
        f"<b>{esc(arm)}</b>, {esc(disease)}: response p={number(o.get('response'))} after "
        f"{number(o.get('response_days'))} days; relapse hazard "
        f"{number(o.get('relapse_hazard_per_year'))} per year; treatment-related mortality "
        f"p={number(o.get('trm'))}"
        for arm, a in (s.get("arms") or {}).items()
        for disease, o in (a.get("outcomes") or {}).items()
    ]
    deaths = "Deaths: Gompertz × SMR by state." if s.get("mortality") else ""
    return (bullets(items) if items else "No clinical course in this scenario. ") + deaths


def _data_text(s: Mapping[str, Any]) -> str:
    params = s.get("parameters") or {}
    counts = pd.Series([str(p.get("status")) for p in params.values()]).value_counts()
    by_status = ", ".join(f"{esc(k)} {v}" for k, v in counts.items())
    estimates = sum(bool(p.get("estimate")) for p in params.values())
    return (
        f"{len(params)} parameters, each with its source in the parameter table (status: "
        f"{by_status}); {estimates} are marked as estimates."
    )


def _experiment_text(manifest: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    return (
        f"Day 0 = {esc(run.get('start_date', NOT_STATED))}. Referrals for "
        f"{fmt(run.get('arrival_window_days'))} days; run to day {fmt(run.get('horizon_days'))}."
        f" Warm-up {fmt(run.get('warmup_days'))} days: patient measures count referrals after "
        "it; resource measures average the days from its end to the end of referrals. "
        f"{esc(manifest.get('replications', run.get('replications')))} replications, seed "
        f"{esc(manifest.get('seed', run.get('seed')))}. Common random numbers: one named stream "
        "per sampled quantity and replication, pre-sampled per patient, so every arm sees the "
        "same patients and draws. Intervals: mean ± t·sd/√n over replications."
    )


def _code_text(manifest: Mapping[str, Any]) -> str:
    command = " ".join(str(c) for c in manifest.get("command_line", []))
    files = "; ".join(
        f"{esc(f)} (SHA-256 <code>{esc(str(h)[:12])}…</code>)"
        for f, h in (manifest.get("scenario_files") or {}).items()
    )
    version = esc(manifest.get("cartsim_version", NOT_STATED))
    return f"cartsim {version}; command <code>{esc(command)}</code>; scenario files: {files}."


def stress_des(manifest: Mapping[str, Any], outputs: list[str]) -> list[tuple[str, str]]:
    """STRESS-DES items as ``(item, html)``, generated from the manifest."""
    s = manifest.get("scenario") or {}
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in (manifest.get("versions") or {}).items())
    aims = (
        "Questions: waits, vein-to-vein time, losses while waiting and resource use under the "
        "stated demand and capacity; costs and QALYs of the arms."
    )
    return [
        ("1 Objectives", f"{esc(s.get('description')) or NOT_STATED} {aims}"),
        ("1 Outputs", ", ".join(esc(o) for o in outputs)),
        ("2 Logic: arms (pathways)", _arms_text(s)),
        ("2 Logic: resources, queues", _resources_text(s)),
        ("2 Logic: entry and exit", _exits_text(s)),
        ("2 Logic: clinical course", _course_text(s)),
        ("3 Data", _data_text(s)),
        ("4 Experimentation", _experiment_text(manifest, s.get("run") or {})),
        ("5 Implementation", f"Python, SimPy discrete-event simulation; versions: {versions}."),
        ("5 Run", f"started {esc(manifest.get('started'))}, ended {esc(manifest.get('finished'))}"),
        ("6 Code access", _code_text(manifest)),
    ]


def cheers(
    manifest: Mapping[str, Any], has_qalys: bool, analyses: list[str]
) -> list[tuple[str, str]]:
    """CHEERS 2022 items of the economic evaluation as ``(item, html)``."""
    s = manifest.get("scenario") or {}

    def stated(*names: str, unit: str = "") -> str:
        value = find(s, *names)
        return NOT_STATED if value is None else fmt(value, unit)

    economics = s.get("economics") or {}
    horizon = f"{fmt((s.get('run') or {}).get('horizon_days'))} days (simulation)"
    if "horizon_years" in economics:
        years = economics["horizon_years"]
        horizon = "lifetime" if years is None else f"{number(years)} years from referral"
    arms = [
        f"{esc(n)} ({esc(a.get('label'))})" if a.get("label") else esc(n)
        for n, a in (s.get("arms") or {}).items()
    ]
    cost_rate = stated("discount_rate_costs", "cost_discount_rate", unit="share")
    effect_rate = stated("discount_rate_effects", "discount_rate_qalys", unit="share")
    price = (
        f"{esc(s.get('currency', NOT_STATED))}, price year {esc(s.get('price_year', NOT_STATED))}"
    )
    model = "patient-level discrete-event simulation (cartsim); costs and QALYs per patient"
    wtp = stated("wtp_per_qaly", "wtp", unit="EUR")
    return [
        ("6 Study population", _demand_text(s)),
        ("7 Setting and location", esc(s.get("description")) or NOT_STATED),
        ("8 Comparators", ", ".join(arms) or NOT_STATED),
        ("9 Perspective", stated("perspective")),
        ("10 Time horizon", horizon),
        ("11 Discount rates", f"costs {cost_rate}; health effects {effect_rate}"),
        ("12–14 Health outcomes", "QALYs per patient" if has_qalys else NOT_STATED),
        ("16 Currency, price date", price),
        ("Willingness to pay (per QALY)", wtp if wtp == NOT_STATED else f"{wtp} EUR"),
        ("17 Model", model),
        ("19 Heterogeneity", "by disease where shown (outcome curves)"),
        ("21 Uncertainty", ", ".join(analyses) or "between replications only"),
    ]


def checklist(rows: list[tuple[str, str]]) -> str:
    return table(["item", "this model"], ([f"<b>{esc(i)}</b>", t] for i, t in rows), "checklist")
