"""The model description as data for ``templates/description.html.j2``.

The description follows the STRESS-DES checklist (Monks et al. 2019) for the simulation and
CHEERS 2022 (Husereau et al.) for the economic evaluation; an item the scenario does not state is
reported as "not stated". Each row is an item name and a key; the template writes the item's text
from the validated manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cartsim.inputs.errors import CartsimError
from cartsim.inputs.money_view import money_view
from cartsim.report.text import NOT_STATED, dist_text, fmt, number, stated

STRESS_DES = (
    ("1 Objectives", "objectives"),
    ("1 Outputs", "outputs"),
    ("2 Logic: arms (pathways)", "arms"),
    ("2 Logic: resources, queues", "resources"),
    ("2 Logic: entry and exit", "exits"),
    ("2 Logic: clinical course", "course"),
    ("3 Data", "data"),
    ("4 Experimentation", "experiment"),
    ("5 Implementation", "implementation"),
    ("5 Run", "run"),
    ("6 Code access", "code"),
)
CHEERS_TITLES = (
    "Title",
    "Abstract",
    "Background and objectives",
    "Health economic analysis plan",
    "Study population",
    "Setting and location",
    "Comparators",
    "Perspective",
    "Time horizon",
    "Discount rate",
    "Selection of outcomes",
    "Measurement of outcomes",
    "Valuation of outcomes",
    "Measurement and valuation of resources and costs",
    "Currency, price date and conversion",
    "Rationale and description of model",
    "Analytics and assumptions",
    "Characterising heterogeneity",
    "Characterising distributional effects",
    "Characterising uncertainty",
    "Approach to engagement with patients and others affected by the study",
    "Study parameters",
    "Summary of main results",
    "Effect of uncertainty",
    "Effect of engagement with patients and others affected by the study",
    "Study findings, limitations, generalisability and current knowledge",
    "Source of funding",
    "Conflicts of interest",
)  # CHEERS 2022: Husereau et al., Value Health 2022;25:3-9, doi:10.1016/j.jval.2021.11.351
CHEERS = tuple((n, title) for n, title in enumerate(CHEERS_TITLES, start=1))
NOT_APPLICABLE = "not applicable: "


def _rows(items: tuple[tuple[str, str], ...]) -> list[list[Any]]:
    return [[{"kind": "bold", "text": name}, {"kind": "call", "key": key}] for name, key in items]


def horizon_text(s: Mapping[str, Any]) -> str:
    """The time horizon of the economic evaluation, else the simulation's."""
    economics = s.get("economics")
    if economics is None:
        return f"{fmt((s.get('run') or {}).get('horizon_days'))} days (simulation)"
    years = economics.get("horizon_years")
    return "lifetime" if years is None else f"{number(years)} years from referral"


def description(
    manifest: Mapping[str, Any],
    outputs: list[str],
    has_qalys: bool,
    analyses: list[str],
    incremental: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The block of the model description: both checklists and what their items state."""
    s = manifest["scenario"]
    params = s.get("parameters") or {}
    counts = pd.Series([str(p.get("status")) for p in params.values()]).value_counts()
    return {
        "kind": "description",
        "manifest": manifest,
        "s": s,
        "outputs": outputs,
        "analyses": analyses,
        "has_qalys": has_qalys,
        "status_counts": {str(k): int(v) for k, v in counts.items()},
        "estimates": sum(bool(p.get("estimate")) for p in params.values()),
        "horizon": horizon_text(s),
        "outcomes": [
            (arm, disease, outcome)
            for arm, a in s["arms"].items()
            for disease, outcome in a["outcomes"].items()
        ],
        "checklists": [
            ("Simulation (STRESS-DES)", _rows(STRESS_DES)),
            (
                "Economic evaluation (CHEERS 2022)",
                cheers_rows(manifest, analyses, has_qalys, incremental),
            ),
        ],
    }


def _join(items: list[str], empty: str = NOT_STATED) -> str:
    return "; ".join(i for i in items if i) or empty


def _demand(s: Mapping[str, Any]) -> str:
    return _join(
        [
            f"{d}: {number(x.get('rate_per_year'))} referrals a year (Poisson), age "
            f"{dist_text(x.get('age'))} years, {fmt(x.get('female'), 'share')} women"
            for d, x in (s.get("demand") or {}).items()
        ]
    )


def _arms(s: Mapping[str, Any]) -> str:
    return _join([f"{n} ({a.get('label') or n})" for n, a in (s.get("arms") or {}).items()])


def _courses(s: Mapping[str, Any]) -> str:
    return _join(
        [
            f"{d}: utility active {number(c.get('utility_active'))}, in remission "
            f"{number(c.get('utility_remission'))}"
            for d, c in (s.get("disease_course") or {}).items()
        ],
        "no disease-state utilities in this scenario",
    )


def _results(incremental: pd.DataFrame | None, currency: str) -> str:
    """Pairwise results for all patients: incremental cost, QALYs and INMB with 95% CIs."""
    if incremental is None or not len(incremental) or "intervention" not in incremental:
        return ""
    rows = incremental
    if "analysis" in rows:
        rows = rows[rows["analysis"] == "pairwise"]
    if "population" in rows:
        rows = rows[rows["population"] == "all"]
    return "; ".join(
        f"{r['intervention']} vs {r['comparator']}: incremental cost {fmt(r['delta_cost'], 'EUR')}"
        f" {currency}, QALYs {fmt(r['delta_qaly'], 'QALYs')}, INMB {fmt(r['inmb'], 'EUR')} "
        f"({fmt(r['inmb_ci_low'], 'EUR')} to {fmt(r['inmb_ci_high'], 'EUR')})"
        for _, r in rows.iterrows()
    )


def _conversion(s: Mapping[str, Any]) -> str:
    """How amounts in other money were converted (CHEERS item 15), from the shipped tables."""
    try:
        notes = money_view(s).notes()
    except CartsimError as exc:
        return f"conversion not known: {exc.message}"
    if not notes:
        return "every amount is entered in this currency and price year (no conversion)"
    return " ".join(notes) + " Tables and their sources: cartsim/data/money.yaml."


def cheers_items(
    manifest: Mapping[str, Any],
    analyses: list[str],
    has_qalys: bool,
    incremental: pd.DataFrame | None = None,
) -> list[tuple[int, str, str]]:
    """``(number, title, text)`` of the 28 CHEERS 2022 items, each filled from the run or
    marked "not applicable" with the reason."""
    s = manifest["scenario"]
    economics = s.get("economics") or {}
    run = s.get("run") or {}
    currency = f"{s.get('currency') or ''} {s.get('price_year') or ''}".strip()
    params = s.get("parameters") or {}
    estimates = sum(bool(p.get("estimate")) for p in params.values())
    reference = economics.get("reference_arm") or "the least costly arm"
    results = _results(incremental, currency)
    by_disease = (
        incremental is not None
        and "population" in incremental
        and (incremental["population"] != "all").any()
    )
    uncertainty = [*analyses, "95% t-intervals over replications (patient-level noise)"]
    text = [
        f"{s.get('name')}: costs, QALYs and capacity of {_arms(s)}, a patient-level "
        "discrete-event simulation (cartsim)",
        NOT_APPLICABLE + "a model run report, not a publication; the headline results and "
        "the incremental analysis summarise it",
        s.get("description") or NOT_STATED,
        NOT_APPLICABLE + "no analysis plan is registered for a run; the scenario files (with "
        "their SHA-256) and the command line fix the analysis before it runs",
        _demand(s),
        f"{s.get('description') or NOT_STATED} Resources: "
        f"{', '.join(s.get('resources') or {}) or 'none limited'}",
        f"{_arms(s)}; increments against {reference}",
        stated(s, "perspective"),
        horizon_text(s),
        f"costs {stated(s, 'discount_rate_costs', unit='share')} a year, health effects "
        f"{stated(s, 'discount_rate_effects', unit='share')} a year (continuous discounting)",
        (
            "QALYs and costs per referred patient, net monetary benefit at "
            f"{stated(s, 'wtp_per_qaly', unit='EUR')} {currency} per QALY; "
            if has_qalys
            else ""
        )
        + "waits, vein-to-vein time, losses while waiting, resource use",
        "response, time to response, relapse, treatment-related mortality and adverse events "
        "sampled per patient from the published series (sources in the parameter table); "
        "deaths from general-population mortality × SMR of the disease state",
        _courses(s)
        + (
            "; scaled by general-population norms for age"
            if economics.get("utility_age_norms")
            else ""
        ),
        "resource use simulated per patient (stages, hospital and ICU days, adverse events, "
        "disease states over time) and valued at the unit costs of the scenario "
        "(stage costs, cost per day, yearly costs of disease states; sources in the parameter "
        "table)",
        f"{currency or NOT_STATED}; " + _conversion(s),
        "patient-level discrete-event simulation (SimPy): queues for limited resources "
        "change when treatment happens and so the time spent with active disease",
        f"{run.get('replications')} replications, seed {run.get('seed')}, warm-up "
        f"{fmt(run.get('warmup_days'))} days; common random numbers across arms; continuous "
        "discounting; paired t-intervals over replications",
        "results per disease in incremental.parquet (population column)"
        if by_disease
        else NOT_APPLICABLE + "no subgroup results in this run (one population)",
        NOT_APPLICABLE + "no distributional cost-effectiveness analysis; QALYs are not "
        "weighted by equity",
        _join(uncertainty),
        NOT_APPLICABLE + "a model run; no patients or others were engaged in it",
        f"{len(params)} parameters with value, unit, source and status in the parameter table; "
        f"{estimates} are estimates",
        results or "see the headline results (kpis.parquet)",
        _join(
            analyses,
            "only between-replication noise is characterised in this run: no "
            "probabilistic, one-way or scenario analysis",
        ),
        NOT_APPLICABLE + "no engagement (item 21)",
        f"findings: item 23; limitations: {estimates} of {len(params)} parameters are "
        "estimates without a direct source; generalisable to settings with the stated demand, "
        "capacity and prices",
        NOT_APPLICABLE + "a model run has no funder; a study using it states its own",
        NOT_APPLICABLE + "a model run declares none; a study using it states its own",
    ]
    return [(n, title, t) for (n, title), t in zip(CHEERS, text, strict=True)]


def cheers_rows(
    manifest: Mapping[str, Any],
    analyses: list[str],
    has_qalys: bool,
    incremental: pd.DataFrame | None = None,
) -> list[list[Any]]:
    """The CHEERS 2022 checklist as table rows: ``n Title`` and the item's text."""
    return [
        [{"kind": "bold", "text": f"{n} {title}"}, text]
        for n, title, text in cheers_items(manifest, analyses, has_qalys, incremental)
    ]
