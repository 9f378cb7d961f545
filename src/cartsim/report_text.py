"""The text parts of the report: headline KPIs, tables and the model description, as HTML.

Everything taken from a scenario file, the manifest or a table passes through :func:`esc`
(``html.escape``) before it reaches the page. The model description follows the STRESS-DES
checklist (Monks et al. 2019) for the simulation and CHEERS 2022 (Husereau et al.) for the
economic evaluation; an item the scenario does not state is reported as "not stated".
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
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


def esc(value: object) -> str:
    """Text for the page: HTML-escaped, with None and NaN as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def fmt(value: Any, unit: str = "") -> str:
    """A number for reading: shares as percentages, money without decimals."""
    if value is None or pd.isna(value):
        return "–"
    if not isinstance(value, int | float):
        return esc(value)
    x = float(value)
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit.startswith("EUR") or abs(x) >= 10_000:
        return f"{x:,.0f}"
    if unit == "QALYs":
        return f"{x:.3f}"
    return f"{x:.1f}" if abs(x) >= 1 or x == 0 else f"{x:.3g}"


def table(header: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "data") -> str:
    """An HTML table from cells that are already HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


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

    def named(prefix: str, label: str, unit: str, suffix: str = "") -> list[tuple[str, str, str]]:
        found = [m for m in metrics if m.startswith(prefix) and m.endswith(suffix)]
        return [(m, label.format(esc(m[len(prefix) : len(m) - len(suffix)])), unit) for m in found]

    rows = [
        ("referred", "patients referred", "patients"),
        ("treated", "patients treated", "patients"),
        ("median_vein_to_vein_days", "vein-to-vein time, median", "days"),
        ("p90_vein_to_vein_days", "vein-to-vein time, 90th centile", "days"),
        ("mean_referral_to_treatment_days", "referral to treatment, mean", "days"),
    ]
    rows += named("mean_wait_", "wait for {}, mean", "days", "_days")
    rows += named("utilisation_", "utilisation of {}", "share")
    rows += [
        ("died_waiting", "died while waiting", "patients"),
        ("dropped_out", "dropped out while waiting", "patients"),
        ("failed", "product failed, untreated", "patients"),
        ("mean_cost_total", "cost per patient, mean", currency),
        ("mean_qaly_total", "QALYs per patient, mean", "QALYs"),
    ]
    return [r for r in rows if r[0] in metrics]


def kpi_panel(kpis: pd.DataFrame | None, arm_labels: Mapping[str, str], currency: str) -> str:
    """Table of headline measures: one column per arm, mean and 95% CI in each cell."""
    need = {"arm", "metric", "mean", "ci_low", "ci_high"}
    if kpis is None or not need <= set(kpis.columns) or not len(kpis):
        return '<p class="missing">No KPI table (kpis.parquet) in this run folder.</p>'
    arms = list(pd.unique(kpis["arm"]))
    cells = kpis.set_index(["metric", "arm"])
    rows = []
    for metric, label, unit in kpi_rows(list(pd.unique(kpis["metric"])), currency):
        row = [f"{label} <span class='unit'>({esc(unit)})</span>"]
        for arm in arms:
            if (metric, arm) not in cells.index:
                row.append("–")
                continue
            c = cells.loc[(metric, arm)]
            ci = f"{fmt(c['ci_low'], unit)} – {fmt(c['ci_high'], unit)}"
            ci_html = "" if pd.isna(c["ci_low"]) else f"<span class='ci'>{ci}</span>"
            row.append(f"<span class='v'>{fmt(c['mean'], unit)}</span>{ci_html}")
        rows.append(row)
    header = ["measure", *(_arm_header(a, arm_labels) for a in arms)]
    n = kpis["n_replications"].max() if "n_replications" in kpis else None
    note = f"Mean over {esc(n)} replications; small print: 95% confidence interval (t)."
    return table(header, rows, "kpi") + f"<p class='note'>{note}</p>"


def _arm_header(arm: Any, labels: Mapping[str, str]) -> str:
    label = labels.get(str(arm))
    return f"{esc(arm)}<br><span class='unit'>{esc(label)}</span>" if label else esc(arm)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def frame_table(frame: pd.DataFrame) -> str:
    """Every column of a small table (e.g. the incremental analysis), numbers formatted."""

    def unit(column: str) -> str:
        name = column.lower()
        if "qaly" in name and "icer" not in name:
            return "QALYs"
        return "EUR" if any(k in name for k in ("cost", "nmb", "icer")) else ""

    header = [esc(c) for c in frame.columns]
    rows = [
        [fmt(v, unit(c)) for c, v in zip(frame.columns, rec, strict=True)]
        for rec in frame.itertuples(index=False)
    ]
    return f'<div class="scroll">{table(header, rows)}</div>'


def dist_text(spec: Any) -> str:
    """A duration or distribution spec as text: ``lognormal(mean=13, sd=2)``."""
    if isinstance(spec, Mapping) and "dist" in spec:
        args = ", ".join(
            f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}"
            for k, v in spec.items()
            if k != "dist" and v is not None
        )
        return esc(f"{spec['dist']}({args})")
    return esc(f"{spec:g}" if isinstance(spec, float | int) else spec)


def parameter_table(parameters: Mapping[str, Mapping[str, Any]]) -> str:
    """The evidence behind the scenario: one row per parameter with its source and status."""
    if not parameters:
        return '<p class="missing">The scenario lists no parameters.</p>'
    header = [
        "name",
        "value",
        "unit",
        "description",
        "source",
        "status",
        "estimate",
        "PSA distribution",
    ]
    rows = []
    for name, p in parameters.items():
        status = p.get("status")
        rows.append(
            [
                f"<code>{esc(name)}</code>",
                fmt(p.get("value")),
                esc(p.get("unit")),
                esc(p.get("description")),
                esc(p.get("source")),
                f"<span title='{esc(STATUS_KEY.get(str(status), ''))}'>{esc(status)}</span>",
                "estimate" if p.get("estimate") else "",
                dist_text(p["psa"]) if p.get("psa") else "",
            ]
        )
    key = "; ".join(f"<b>{k}</b> {v}" for k, v in STATUS_KEY.items())
    search = '<input type="search" id="param-filter" placeholder="filter parameters…">'
    return f"{search}<div class='scroll tall'>{table(header, rows, 'data params')}</div><p class='note'>Status: {key}.</p>"


# ---------------------------------------------------------------------------------------------
# Model description (STRESS-DES, CHEERS 2022)
# ---------------------------------------------------------------------------------------------


def _stage_text(stage: Mapping[str, Any]) -> str:
    parts = [f"<b>{esc(stage.get('name'))}</b> ({esc(stage.get('kind'))}"]
    if stage.get("resource"):
        parts.append(f", resource {esc(stage['resource'])}")
    if stage.get("duration") is not None:
        parts.append(f", duration {dist_text(stage['duration'])} days")
    parts.append(")")
    if stage.get("failure"):
        f = stage["failure"]
        parts.append(
            f"; failure p={fmt(f.get('probability'))} → back to {esc(f.get('back_to'))}, at most {esc(f.get('max_attempts'))} attempts"
        )
    if stage.get("icu"):
        icu = stage["icu"]
        parts.append(
            f"; ICU ({esc(icu.get('resource'))}) when CRS ≥ {esc(icu.get('crs_grade_at_least'))} or ICANS ≥ {esc(icu.get('icans_grade_at_least'))}, stay {dist_text(icu.get('duration'))} days"
        )
    return "".join(parts)


def _arms_text(scenario: Mapping[str, Any]) -> str:
    items = []
    for name, arm in (scenario.get("arms") or {}).items():
        stages = " → ".join(_stage_text(s) for s in arm.get("stages", []))
        label = f" – {esc(arm['label'])}" if arm.get("label") else ""
        items.append(f"<li><b>{esc(name)}</b>{label}: {stages}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else NOT_STATED


def _resources_text(scenario: Mapping[str, Any]) -> str:
    items = []
    for name, res in (scenario.get("resources") or {}).items():
        cal = res.get("calendar") or {}
        days = ", ".join(esc(d) for d in cal.get("open_days", []))
        hours = cal.get("hours") or ["?", "?"]
        items.append(
            f"<li><b>{esc(name)}</b>: capacity {esc(res.get('capacity'))}; starts service {days}, {esc(hours[0])}–{esc(hours[1])} h. {esc(res.get('description'))}</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else "none"


def _demand_text(scenario: Mapping[str, Any]) -> str:
    items = [
        f"<li><b>{esc(d)}</b>: {esc(v.get('rate_per_year'))} referrals per year (Poisson), age {dist_text(v.get('age'))} years, {fmt(v.get('female'), 'share')} female</li>"
        for d, v in (scenario.get("demand") or {}).items()
    ]
    return f"<ul>{''.join(items)}</ul>"


def _by_disease(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{esc(k)} {esc(v)}" for k, v in value.items())
    return NOT_STATED if value is None else esc(value)


def _data_text(scenario: Mapping[str, Any]) -> str:
    params = scenario.get("parameters") or {}
    counts = pd.Series([str(p.get("status")) for p in params.values()]).value_counts()
    by_status = ", ".join(f"{esc(k)}: {v}" for k, v in counts.items())
    estimates = sum(bool(p.get("estimate")) for p in params.values())
    return f"{len(params)} parameters with their sources in the parameter table (status {by_status}); {estimates} are marked as estimates. Each carries a distribution for probabilistic analysis where one is given."


def stress_des(manifest: Mapping[str, Any], outputs: list[str]) -> list[tuple[str, str]]:
    """STRESS-DES items as ``(item, html)``, generated from the manifest."""
    s = manifest.get("scenario") or {}
    run = s.get("run") or {}
    versions = manifest.get("versions") or {}
    waiting = s.get("waiting") or {}
    return [
        (
            "1 Objectives",
            f"{esc(s.get('description')) or NOT_STATED} Questions: waits, vein-to-vein time, losses while waiting and resource use under the stated demand and capacity; costs and QALYs of the arms. Outputs: {', '.join(esc(o) for o in outputs)}.",
        ),
        ("2 Logic: arms (entities' pathways)", _arms_text(s)),
        (
            "2 Logic: resources and queues",
            _resources_text(s)
            + "Queues are first come, first served; a service only starts while its resource is open.",
        ),
        (
            "2 Logic: entry and exit",
            f"Referrals: {_demand_text(s)} While waiting for treatment patients die (hazard per day {_by_disease(waiting.get('death_hazard_per_day'))}) or drop out (hazard per day {_by_disease(waiting.get('dropout_hazard_per_day'))}).",
        ),
        ("3 Data", _data_text(s)),
        (
            "4 Experimentation",
            f"Day 0 = {esc(run.get('start_date', NOT_STATED))}; referrals for {fmt(run.get('arrival_window_days'))} days, run to day {fmt(run.get('horizon_days'))}; warm-up {fmt(run.get('warmup_days'))} days (patient measures count referrals after it; resource measures average the days after it up to the end of referrals); {esc(manifest.get('replications', run.get('replications')))} replications, seed {esc(manifest.get('seed', run.get('seed')))}. Common random numbers: one named random stream per quantity and replication, pre-sampled per patient, so every arm sees the same patients and draws. Intervals: mean ± t·sd/√n over replications.",
        ),
        (
            "5 Implementation",
            "Discrete-event simulation in Python with SimPy; versions: "
            + ", ".join(f"{esc(k)} {esc(v)}" for k, v in versions.items())
            + f". Run started {esc(manifest.get('started'))}, finished {esc(manifest.get('finished'))}.",
        ),
        (
            "6 Code access",
            f"cartsim {esc(manifest.get('cartsim_version', NOT_STATED))}; command <code>{esc(' '.join(map(str, manifest.get('command_line', []))))}</code>; scenario files (SHA-256): "
            + "; ".join(
                f"{esc(f)} <code>{esc(str(h)[:12])}…</code>"
                for f, h in (manifest.get("scenario_files") or {}).items()
            ),
        ),
    ]


def cheers(
    manifest: Mapping[str, Any], has_qalys: bool, analyses: list[str]
) -> list[tuple[str, str]]:
    """CHEERS 2022 items of the economic evaluation as ``(item, html)``."""
    s = manifest.get("scenario") or {}
    arms = s.get("arms") or {}

    def stated(*names: str, unit: str = "") -> str:
        value = find(s, *names)
        return NOT_STATED if value is None else f"{esc(value)}{unit}"

    horizon = find(s, "time_horizon_years", "horizon_years")
    horizon_text = (
        f"{esc(horizon)} years"
        if horizon is not None
        else f"{fmt((s.get('run') or {}).get('horizon_days'))} days (simulation horizon)"
    )
    return [
        ("6 Study population", _demand_text(s)),
        ("7 Setting and location", esc(s.get("description")) or NOT_STATED),
        (
            "8 Comparators",
            ", ".join(
                f"{esc(n)} ({esc(a.get('label'))})" if a.get("label") else esc(n)
                for n, a in arms.items()
            ),
        ),
        ("9 Perspective", stated("perspective")),
        ("10 Time horizon", horizon_text),
        (
            "11 Discount rates",
            f"costs {stated('discount_rate_costs', 'cost_discount_rate', 'discount_costs')}, health effects {stated('discount_rate_qalys', 'discount_rate_outcomes', 'qaly_discount_rate', 'discount_outcomes')}",
        ),
        ("12–14 Outcomes", "QALYs per patient" if has_qalys else NOT_STATED),
        (
            "16 Currency, price date",
            f"{esc(s.get('currency', NOT_STATED))}, price year {esc(s.get('price_year', NOT_STATED))}",
        ),
        (
            "Willingness to pay",
            stated("wtp", "willingness_to_pay", "wtp_per_qaly", unit=" per QALY"),
        ),
        (
            "17 Model",
            "Patient-level discrete-event simulation (cartsim); costs and QALYs computed from each simulated patient's pathway.",
        ),
        ("19 Heterogeneity", "Results by disease where shown (outcome curves)."),
        ("21 Uncertainty", ", ".join(analyses) or "replications only (stochastic uncertainty)"),
    ]


def checklist(rows: list[tuple[str, str]]) -> str:
    return table(
        ["item", "this model"], ([f"<b>{esc(i)}</b>", text] for i, text in rows), "data checklist"
    )
