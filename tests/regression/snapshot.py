"""Small seeded runs of the shipped scenarios reduced to their key results, for snapshots.

The runs are short (three replications, two years of referrals) and their seeds are fixed in the
scenario files, so the results are exact; :mod:`update_snapshots` writes them to
``snapshots.json`` on purpose when a model change is meant to move them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from cartsim.decide.head_to_head import incremental_results
from cartsim.decide.stats import summarise
from cartsim.inputs import loading
from cartsim.runs.experiment import run_replications

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SNAPSHOTS = HERE / "snapshots.json"
SHORT = [
    "run.replications=3",
    "run.arrival_window_days=730",
    "run.horizon_days=1000",
    "run.warmup_days=90",
]
SCENARIOS = {"baseline": "scenarios/baseline.yaml", "cart_vs_asct": "scenarios/cart_vs_asct.yaml"}
KPIS = [
    "referred",
    "treated",
    "completed",
    "died_waiting",
    "dropped_out",
    "mean_referral_to_treatment_days",
    "p90_vein_to_vein_days",
    "mean_wait_manufacturing_days",
    "mean_inpatient_days",
    "mean_cost_total",
    "mean_qaly_total",
    "utilisation_manufacturing",
    "mean_queue_manufacturing",
]


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN and infinities as strings, numpy scalars as Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def results(name: str) -> dict[str, Any]:
    """Key KPIs (mean and 95% CI per arm) and the incremental table of one short run."""
    scenario = loading.load(ROOT / SCENARIOS[name], SHORT).build()
    tables = run_replications(scenario, scenario.run.replications, events=False)
    kpis = summarise(tables.metrics)
    kpis = kpis[kpis["metric"].isin(KPIS)].sort_values(["arm", "metric"], kind="stable")
    out: dict[str, Any] = {"kpis": _records(kpis.astype({"arm": str}))}
    economics = scenario.economics
    if economics is not None and len(scenario.arms) > 1:
        patients = tables.patients
        settled = patients[patients["arrival_day"] >= scenario.run.warmup_days]
        table = incremental_results(settled, economics.wtp_per_qaly, economics.reference_arm)
        out["incremental"] = _records(table)
    return out


def all_results() -> dict[str, Any]:
    return {name: results(name) for name in SCENARIOS}


def load_snapshots() -> dict[str, Any]:
    return json.loads(SNAPSHOTS.read_text(encoding="utf-8"))


def save_snapshots(data: dict[str, Any]) -> None:
    SNAPSHOTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
