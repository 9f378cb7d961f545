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

from cartsim.report.text import fmt, number, stated

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
CHEERS = (
    ("6 Study population", "population"),
    ("7 Setting and location", "setting"),
    ("8 Comparators", "comparators"),
    ("9 Perspective", "perspective"),
    ("10 Time horizon", "horizon"),
    ("11 Discount rates", "discounting"),
    ("12–14 Health outcomes", "outcomes"),
    ("16 Currency, price date", "currency"),
    ("Willingness to pay (per QALY)", "wtp"),
    ("17 Model", "model"),
    ("19 Heterogeneity", "heterogeneity"),
    ("21 Uncertainty", "uncertainty"),
)


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
    manifest: Mapping[str, Any], outputs: list[str], has_qalys: bool, analyses: list[str]
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
        "stated": {
            "perspective": stated(s, "perspective"),
            "cost_rate": stated(s, "discount_rate_costs", "cost_discount_rate", unit="share"),
            "effect_rate": stated(s, "discount_rate_effects", "discount_rate_qalys", unit="share"),
            "wtp": stated(s, "wtp_per_qaly", "wtp", unit=str(s.get("currency"))),
        },
        "checklists": [
            ("Simulation (STRESS-DES)", _rows(STRESS_DES)),
            ("Economic evaluation (CHEERS 2022)", _rows(CHEERS)),
        ],
    }
