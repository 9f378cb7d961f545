"""The text of the report as data: numbers formatted for reading and the cells of its tables.

Nothing here writes HTML. Functions return plain text, or tables as ``{"header", "rows"}`` whose
cells are plain values or small mappings with a ``kind`` (a measure with its interval, a header
with its unit, code, a status with its key), which the one table macro of
``templates/macros.html.j2`` renders and escapes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cartsim.inputs import tree
from cartsim.inputs.money_view import MoneyView
from cartsim.report.plots.common import shown

NOT_STATED = "not stated"
STATUS_KEY = {
    "F": "found in the source cited",
    "F2": "found only in a secondary or low-quality page",
    "B": "as summarised in press coverage, not re-checked in the paper",
    "M": "commonly cited, not verified against the source",
    "E": "estimate or derivation, no direct source",
}
CI_SUFFIXES = ("_ci_low", "_ci_high")
MONEY_UNIT = re.compile(r"^[A-Z]{3}(\s|$)")  # an ISO currency code: EUR, GBP 2024
Cell = Any  # a plain value, or a mapping with a "kind" (see the module docstring)
Table = dict[str, Any]


def fmt(value: Any, unit: str = "") -> str:
    """A number for reading: shares as percentages, money and whole numbers without decimals."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if MONEY_UNIT.match(unit) or abs(x) >= 10_000 or (x.is_integer() and unit != "QALYs"):
        return f"{x:,.0f}"
    if unit == "QALYs":
        return f"{x:.3f}"
    return f"{x:.1f}" if unit in ("days", "patients") or abs(x) >= 1 else f"{x:.3g}"


def number(value: Any) -> str:
    """A scenario value as written (up to 6 significant digits); None and NaN as empty."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return "" if isinstance(value, float) and math.isnan(value) else f"{value:.6g}"
    return str(shown(value))


def dist_text(spec: Any) -> str:
    """A duration or distribution spec as text: ``lognormal(mean=13, sd=2)``."""
    if isinstance(spec, Mapping) and "dist" in spec:
        args = [f"{k}={number(v)}" for k, v in spec.items() if k != "dist" and v is not None]
        return f"{shown(spec['dist'])}({', '.join(args)})"
    return number(spec)


def find(scenario: Any, *names: str) -> Any:
    """The first value stored under any of ``names`` anywhere in ``scenario``: a mapping's own
    keys before its children's, children in order, nothing inside ``parameters``."""
    for path, node in tree.nodes(scenario):
        if isinstance(node, Mapping) and "parameters" not in path.split("."):
            for name in names:
                if node.get(name) is not None:
                    return node[name]
    return None


def stated(tree: Any, *names: str, unit: str = "") -> str:
    """The value under ``names`` (see :func:`find`) formatted, or "not stated"."""
    value = find(tree, *names)
    return NOT_STATED if value is None else fmt(value, unit)


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
        *((m, f"wait for {m[10:-5]}, mean", "days") for m in waits),
        *((m, f"utilisation of {m[12:]}", "share") for m in used),
        ("died_waiting", "died while waiting", "patients"),
        ("dropped_out", "dropped out while waiting", "patients"),
        ("failed", "product failed, untreated", "patients"),
        ("mean_cost_total", "cost per referred patient, mean (discounted)", currency),
        ("mean_qaly_total", "QALYs per referred patient, mean (discounted)", "QALYs"),
    ]
    return [r for r in rows if r[0] in metrics]


def measure(value: Any, unit: str, low: Any = None, high: Any = None, big: bool = False) -> Cell:
    """A cell of a value and, when known, its 95% interval in small print."""
    ci = (fmt(low, unit), fmt(high, unit)) if pd.notna(low) else None
    return {"kind": "measure", "value": fmt(value, unit), "ci": ci, "big": big}


def kpi_table(
    kpis: pd.DataFrame | None, arm_labels: Mapping[str, str], currency: str
) -> Table | None:
    """Headline measures: one column per arm, mean and 95% CI in each cell; None without KPIs."""
    if kpis is None or not len(kpis):
        return None
    arms = list(pd.unique(kpis["arm"]))
    cells = kpis.drop_duplicates(["metric", "arm"]).set_index(["metric", "arm"])
    rows = []
    for metric, label, unit in kpi_rows(list(pd.unique(kpis["metric"])), currency):
        row: list[Cell] = [{"kind": "head", "text": label, "unit": f"({unit})"}]
        for arm in arms:
            if (metric, arm) not in cells.index:
                row.append("–")
                continue
            rec = cells.loc[(metric, arm)]
            low = max(0.0, float(rec["ci_low"])) if pd.notna(rec["ci_low"]) else None
            row.append(measure(rec["mean"], unit, low, rec["ci_high"], big=True))
        rows.append(row)
    header = ["measure"] + [
        {"kind": "arm", "text": a, "label": arm_labels.get(str(a), "")} for a in arms
    ]
    n = kpis["n_replications"].max() if "n_replications" in kpis else "several"
    return {"header": header, "rows": rows, "n": n}


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def column_unit(column: str, money: str) -> str:
    """The unit of a table column; ``money``: the scenario's currency and price year."""
    name = column.lower()
    if "icer" in name or name == "wtp":
        return f"{money} per QALY"
    if "qaly" in name:
        return "QALYs"
    return money if any(k in name for k in ("cost", "nmb")) else ""


def frame_table(frame: pd.DataFrame, money: str) -> Table:
    """Every column of a small table; ``x_ci_low`` and ``x_ci_high`` go in the cell of ``x``."""
    ci = {
        c
        for c in frame.columns
        for suffix in CI_SUFFIXES
        if c.endswith(suffix) and c.removesuffix(suffix) in frame.columns
    }
    shown_columns = [c for c in frame.columns if c not in ci]
    header = [{"kind": "head", "text": c, "unit": column_unit(c, money)} for c in shown_columns]
    rows = []
    for _, rec in frame.iterrows():
        row = []
        for c in shown_columns:
            has_ci = f"{c}_ci_low" in ci
            low, high = (rec[f"{c}_ci_low"], rec[f"{c}_ci_high"]) if has_ci else (None, None)
            row.append(measure(rec[c], column_unit(c, money), low, high))
        rows.append(row)
    return {"header": header, "rows": rows, "has_ci": bool(ci)}


def parameter_table(
    parameters: Mapping[str, Mapping[str, Any]],
    used: Sequence[str] | None = None,
    money: MoneyView | None = None,
) -> Table | None:
    """The evidence behind the scenario: one row per parameter with its source and status,
    and whether the model uses it (``used``: names some field refers to; None: unknown).
    With ``money``, values, units, distributions and amounts in the text are shown in the
    scenario's money (:mod:`cartsim.inputs.money_view`)."""
    if not parameters:
        return None
    header = ["name", "value", "unit", "description", "source", "status", "estimate", "PSA"]
    in_use = set(used) if used is not None else None
    if in_use is not None:
        header.append("used by the model")
    rows = []
    for name, p in parameters.items():
        status = shown(p.get("status"))
        psa = p.get("psa")
        if money is not None:
            psa = money.distribution(name, psa)
        rows.append(
            [
                {"kind": "code", "text": name},
                number(money.value(name, p.get("value")) if money else p.get("value")),
                money.unit(name, p.get("unit")) if money else p.get("unit"),
                money.text(p.get("description")) if money else p.get("description"),
                money.text(p.get("source")) if money else p.get("source"),
                {"kind": "status", "text": status, "title": STATUS_KEY.get(str(status), "")},
                "yes" if p.get("estimate") else "",
                dist_text(psa) if psa else "",
                *([] if in_use is None else ["yes" if name in in_use else "no (context)"]),
            ]
        )
    return {"header": header, "rows": rows}


def target_sentence(row: Mapping[Any, Any]) -> str:
    """A run's verdict on one planning target in words, with the confidence and the interval
    that decide it (a row of ``targets.parquet``)."""
    level = f"{float(row['confidence']):.0%}"
    worst = row.get("worst_referral_year")
    where = (
        f"worst year of referral {int(worst)}: "
        if isinstance(worst, int | float) and math.isfinite(worst)
        else ""
    )
    value = (
        f"{where}{float(row['mean']):,.1f} ({level} CI "
        f"{float(row['ci_low']):,.1f}–{float(row['ci_high']):,.1f})"
    )
    said = {
        "meets": f"met with {level} confidence",
        "fails": f"not met ({level} confidence)",
        "unclear": f"unclear at {level} confidence: the interval straddles the target; "
        "more replications may settle it",
    }
    if not (math.isfinite(float(row["ci_low"])) and math.isfinite(float(row["ci_high"]))):
        said["unclear"] = "unclear: no interval (it needs at least 2 replications with a value)"
        value = f"{where}{float(row['mean']):,.1f}"
    return f"{row['target']}: {said.get(str(row['verdict']), str(row['verdict']))} — {value}"
