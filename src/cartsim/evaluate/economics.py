"""Costs, QALYs and budget impact per patient: the value of a course of flows and lumps.

The course (:mod:`cartsim.evaluate.cashflows`) is valued in blocks: many flows (or lumps) of all
patients stacked into arrays and discounted in one vectorised pass. Discounting is continuous
(:mod:`cartsim.evaluate.discounting`); budget impact is undiscounted spend per calendar year.
Money is in the scenario's currency and price year.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from cartsim.evaluate.cashflows import (
    UTILITY,
    UTILITY_LOSS,
    Course,
    Flow,
    FlowRows,
    Lump,
    each_flow,
)
from cartsim.evaluate.derive import Columns, among
from cartsim.evaluate.discounting import (
    discounted_integral,
    discounted_point,
    discounted_polynomial_integral,
)
from cartsim.inputs.clinical import Economics
from cartsim.inputs.units import DAYS_PER_YEAR

_T = TypeVar("_T")


def _age_polynomial(course: Course) -> np.ndarray | None:
    """Per patient, coefficients ``(p0, p1, p2)`` in years ``t`` since referral of the
    general-population norm at age ``age + t`` over the norm at referral (None: no norms)."""
    norms = course.norms
    if norms is None or course.age is None:
        return None
    assert course.male is not None
    a = course.age
    at_referral = norms.intercept + norms.male * course.male + norms.age * a
    at_referral = at_referral + norms.age_squared * a**2
    slope = norms.age + 2 * norms.age_squared * a
    return np.stack([np.ones_like(a), slope / at_referral, norms.age_squared / at_referral])


BLOCK = 1 << 16  # values stacked at most in one vectorised pass (memory flat in patients)


def _blocks(items: list[_T], sizes: list[int]) -> Iterator[list[_T]]:
    """Consecutive runs of ``items`` (of ``sizes`` values each) of about ``BLOCK`` values in
    all (at least one item)."""
    if sum(sizes) <= BLOCK:
        if items:
            yield items
        return
    block: list[_T] = []
    total = 0
    for item, size in zip(items, sizes, strict=True):
        if block and total + size > BLOCK:
            yield block
            block, total = [], 0
        block.append(item)
        total += size
    if block:
        yield block


def _entries(items: list[Flow] | list[Lump], n: int) -> tuple[np.ndarray, list[int]]:
    """The patient of every entry of ``items`` (concatenated) and the items' sizes."""
    every = np.arange(n)
    owners = [every if x.patient is None else x.patient for x in items]
    return np.concatenate(owners), [o.size for o in owners]


def _per_item(owner: np.ndarray, sizes: list[int], n: int, values: np.ndarray) -> np.ndarray:
    """Entry values (last axis) summed per item and patient, each patient's entries in order."""
    index = np.repeat(np.arange(len(sizes)) * n, sizes) + owner
    bins = len(sizes) * n
    return np.stack([np.bincount(index, weights=v, minlength=bins) for v in values]).reshape(
        len(values), len(sizes), n
    )


def _flow_entries(
    arrival: np.ndarray,
    coef: np.ndarray | None,
    flows: list[tuple[int, Flow | FlowRows]],
    rates: tuple[float, float],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The flows' entries that can be non-zero, valued in one vectorised pass, in flow order:
    the flows' categories, and per entry its category (index into them), its patient and its
    discounted and undiscounted values (``2 × entries``). Each flow comes with the index of its
    course's first patient among all (``arrival`` and ``coef``, the age polynomial, are of all).

    An empty interval (most disease states are never reached) is worth exactly 0 at a finite
    rate, as valuing it gives: such entries are left out (as are the empty ones first seen in
    the days, before the years since referral are computed).
    """
    r_costs, r_effects = rates
    categories = list(dict.fromkeys(c for _, f in flows for c in _categories(f)))
    code = {c: i for i, c in enumerate(categories)}
    parts = []
    for first, flow in flows:
        maybe = ~(flow.end <= flow.start) | ~np.isfinite(flow.rate)
        if isinstance(flow, FlowRows):
            row, owner = np.nonzero(maybe)
            kinds = np.asarray([code[c] for c in flow.categories])[row]
        else:
            (row,) = np.nonzero(maybe)
            owner = row if flow.patient is None else flow.patient[row]
            kinds = np.full(row.size, code[flow.category])
        owner = owner + first if first else owner
        parts.append((kinds, owner, flow.start[maybe], flow.end[maybe], flow.rate[maybe]))
    kind, owner, start, end, rate = (np.concatenate(p) for p in zip(*parts, strict=True))
    arrival = arrival[owner]
    t0 = (start - arrival) / DAYS_PER_YEAR
    t1 = (np.fmax(start, end) - arrival) / DAYS_PER_YEAR
    valid = np.isfinite(t0) & np.isfinite(t1)
    t0, t1 = np.where(valid, t0, 0.0), np.where(valid, t1, 0.0)
    (live,) = np.nonzero((t1 > t0) | ~np.isfinite(rate))
    t0, t1, rate, kind, owner = t0[live], t1[live], rate[live], kind[live], owner[live]
    values = np.zeros((2, live.size))
    of_kind = np.asarray([[c == UTILITY, c == UTILITY_LOSS] for c in categories]).reshape(-1, 2)
    utility, loss = of_kind[kind, 0], of_kind[kind, 1]
    for rows, r, scaled in ((utility, r_effects, True), (loss, r_effects, False),
                            (~(utility | loss), r_costs, False)):  # fmt: skip
        if not rows.any():
            continue
        a, b, level = t0[rows], t1[rows], rate[rows]
        if scaled and coef is not None:
            coefficients = coef[:, owner[rows]]
            values[0, rows] = level * discounted_polynomial_integral(a, b, r, coefficients)
            values[1, rows] = level * discounted_polynomial_integral(a, b, 0.0, coefficients)
        else:
            values[0, rows] = discounted_integral(a, b, r, level)
            values[1, rows] = level * (b - a)
    return categories, kind, owner, values


def _categories(flow: Flow | FlowRows) -> tuple[str, ...]:
    return flow.categories if isinstance(flow, FlowRows) else (flow.category,)


def _summed(total: np.ndarray, owner: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``total`` plus each patient's ``values`` (entries naming their patient in ``owner``)
    added one at a time in order, as a loop of ``+=`` over the flows gives (a total is never
    -0, so starting each from 0 changes no bit)."""
    n = total.size
    index = np.concatenate([np.arange(n), owner])
    return np.bincount(index, weights=np.concatenate([total, values]), minlength=n)


def _flow_size(flow: Flow | FlowRows, n: int) -> int:
    return flow.start.size if isinstance(flow, FlowRows) else max(n, flow.start.size)


def _lump_values(course: Course, lumps: list[Lump], rate: float) -> np.ndarray:
    """Per lump (rows) and patient: discounted and undiscounted amounts, in one pass (several
    entries of one patient in one lump are added in entry order)."""
    n = course.arrival.size
    owner, sizes = _entries(lumps, n)
    t = (np.concatenate([x.day for x in lumps]) - course.arrival[owner]) / DAYS_PER_YEAR
    valid = np.isfinite(t)
    t = np.where(valid, t, 0.0)
    amount = np.where(valid, np.concatenate([x.amount for x in lumps]), 0.0)
    present = np.asarray(discounted_point(t, rate, amount))
    return _per_item(owner, sizes, n, np.stack([present, amount]))


def _added(total: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``total + rows[0] + rows[1] + ...``, one row at a time in order: the same bits as a loop.

    Many small rows (a small cohort) are added as one running sum over the stacked rows; large
    rows (a large cohort: a row a block) one by one into a single new array, stacking nothing.
    """
    if rows.size <= BLOCK:
        return np.cumsum(np.concatenate([total[None, :], rows]), axis=0)[-1] if len(rows) else total
    total = total + rows[0]  # a new array: the caller's is left alone
    for row in rows[1:]:
        total += row
    return total


def evaluate(course: Course, economics: Economics) -> Columns:
    """Per-patient costs by category (discounted), totals, QALYs and life-years.

    State utilities are scaled by the general-population norm for age (when the scenario gives
    ``economics.utility_age_norms``); utility losses are not, and they never take away more than
    the QALYs lived, so QALYs are never negative. Flows and lumps are valued a block at a time
    (one vectorised pass over many flows and patients); each patient's values are summed in
    flow order, then lump order, so blocking does not change a result.
    """
    return evaluate_many([(course, economics)])[0]


def evaluate_many(valuations: Sequence[tuple[Course, Economics]]) -> list[Columns]:
    """:func:`evaluate` of each course with its economics (e.g. every arm of the runs of a batch
    of PSA draws), their flows valued together: one vectorised pass over the patients of all
    valued alike (the same discount rates and age norms, or none), where valuing course by
    course costs a pass (and its fixed cost) each. Every patient's values are summed in its own
    course's order, and a course's columns are its own categories, so each result is the one
    :func:`evaluate` gives it alone, bit for bit."""
    groups: list[tuple[tuple[object, ...], list[int]]] = []  # courses valued alike
    for k, (course, economics) in enumerate(valuations):
        key = (economics.discount_rate_costs, economics.discount_rate_effects, *_norms_of(course))
        group = next((members for alike, members in groups if alike == key), None)
        if group is None:
            groups.append((key, [k]))
        else:
            group.append(k)
    out: list[Columns] = [{} for _ in valuations]
    for _, members in groups:
        economics = valuations[members[0]][1]  # valuing reads only its discount rates
        courses = [valuations[k][0] for k in members]
        for k, values in zip(members, _valued(courses, economics), strict=True):
            out[k] = values
    return out


def _valued(courses: Sequence[Course], economics: Economics) -> list[Columns]:
    """:func:`evaluate_many` of courses valued alike (the same discount rates and age norms), in
    one pass."""
    sizes = [c.arrival.size for c in courses]
    firsts = np.cumsum([0, *sizes]).tolist()
    n = firsts[-1]
    arrival = _joined([c.arrival for c in courses])
    coefs = [_age_polynomial(c) for c in courses]
    polynomials = [c for c in coefs if c is not None]
    coef = _joined(polynomials, axis=1) if len(polynomials) == len(coefs) else None
    out: dict[str, np.ndarray] = {}
    zeros = np.zeros(n)
    undiscounted_cost = np.zeros(n)
    rates = (economics.discount_rate_costs, economics.discount_rate_effects)
    lived, lived_raw = np.zeros(n), np.zeros(n)
    lost, lost_raw = np.zeros(n), np.zeros(n)
    flows = [(first, f) for first, c in zip(firsts[:-1], courses, strict=True) for f in c.flows]
    sizes_of = [_flow_size(f, c.arrival.size) for c in courses for f in c.flows]
    for block in _blocks(flows, sizes_of):
        categories, kind, owner, values = _flow_entries(arrival, coef, block, rates)
        for c, name in enumerate(categories):
            mine = kind == c
            who, value, raw = owner[mine], values[0][mine], values[1][mine]
            if name == UTILITY:
                lived, lived_raw = _summed(lived, who, value), _summed(lived_raw, who, raw)
            elif name == UTILITY_LOSS:
                lost, lost_raw = _summed(lost, who, value), _summed(lost_raw, who, raw)
            else:
                out[name] = _summed(out.get(name, zeros), who, value)
        costs = ~among(
            kind, [categories.index(c) for c in (UTILITY, UTILITY_LOSS) if c in categories]
        )
        undiscounted_cost = _summed(undiscounted_cost, owner[costs], values[1][costs])
    for first, course in zip(firsts[:-1], courses, strict=True):
        size = course.arrival.size
        span = slice(first, first + size)
        for lumps in _blocks(course.lumps, [max(size, x.day.size) for x in course.lumps]):
            values = _lump_values(course, lumps, rates[0])
            category = np.asarray([x.category for x in lumps])
            for name in dict.fromkeys(category):
                if name not in out:
                    out[name] = np.zeros(n)
                out[name][span] = _added(out[name][span], values[0][category == name])
            undiscounted_cost[span] = _added(undiscounted_cost[span], values[1])
    qaly = lived + np.maximum(lost, -np.maximum(lived, 0.0))
    qaly_raw = lived_raw + np.maximum(lost_raw, -np.maximum(lived_raw, 0.0))
    results = []
    for first, course in zip(firsts[:-1], courses, strict=True):
        span = slice(first, first + course.arrival.size)

        def own(values: np.ndarray, span: slice = span) -> np.ndarray:
            return values if len(courses) == 1 else values[span].copy()  # alone: no copy

        table = {f"cost_{k}": own(out[k]) for k in sorted(_cost_categories(course))}
        table["cost_total"] = (
            np.sum(list(table.values()), axis=0) if table else np.zeros(course.arrival.size)
        )
        table["cost_undiscounted"] = own(undiscounted_cost)
        table["qaly_total"] = own(qaly)
        table["qaly_undiscounted"] = own(qaly_raw)
        table["life_years"] = (course.end - course.arrival) / DAYS_PER_YEAR
        results.append(table)
    return results


def _joined(arrays: list[np.ndarray], axis: int = 0) -> np.ndarray:
    """``arrays`` end to end (one array: itself, no copy)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)


def _norms_of(course: Course) -> tuple[object, bool]:
    """What valuing a course's utilities depends on besides its patients' values."""
    return course.norms, course.age is None


def _cost_categories(course: Course) -> set[str]:
    """The cost categories of a course's flows and lumps (every one a column of its own)."""
    flows = {c for f in course.flows for c in _categories(f)} - {UTILITY, UTILITY_LOSS}
    return flows | {x.category for x in course.lumps}


def budget(course: Course, treatment_day: np.ndarray, years: int) -> pd.DataFrame:
    """Undiscounted spend per calendar year (year 0 starts on day 0) and patients treated."""
    edges = np.arange(years + 1) * DAYS_PER_YEAR
    rows: dict[str, np.ndarray] = {}
    for flow in each_flow(course.flows):
        if flow.category in (UTILITY, UTILITY_LOSS):
            continue
        start, stop = np.nan_to_num(flow.start, nan=0.0), np.nan_to_num(flow.end, nan=0.0)
        stop = np.where(np.isnan(flow.start), start, np.fmax(start, stop))
        lo = np.clip(start[:, None], edges[:-1], edges[1:])
        hi = np.clip(stop[:, None], edges[:-1], edges[1:])
        spend = ((hi - lo) / DAYS_PER_YEAR * flow.rate[:, None]).sum(axis=0)
        rows[flow.category] = rows.get(flow.category, 0.0) + spend
    for lump in course.lumps:
        if lump.category == UTILITY:
            continue
        valid = ~np.isnan(lump.day) & (lump.day < edges[-1])
        spend = np.bincount(
            (lump.day[valid] // DAYS_PER_YEAR).astype(int),
            weights=lump.amount[valid],
            minlength=years,
        )[:years]
        rows[lump.category] = rows.get(lump.category, 0.0) + spend
    table = pd.DataFrame({f"cost_{k}": v for k, v in sorted(rows.items())})
    table["cost_total"] = table.sum(axis=1)
    treated = treatment_day[~np.isnan(treatment_day) & (treatment_day < edges[-1])]
    table.insert(
        0,
        "patients_treated",
        np.bincount((treated // DAYS_PER_YEAR).astype(int), minlength=years)[:years],
    )
    table.insert(0, "year", np.arange(years))
    return table
