"""Valuing only the flows' entries that can be non-zero gives the same bits as valuing every one.

The reference values every entry of every flow (each over every patient, or over its entries;
rows of :class:`FlowRows` as flows of their own) with the discounting functions directly and adds
each to its patient's total with ``+=``, flow after flow. The flows mix empty intervals, reversed
and missing (NaN) bounds, an open end, tiny lengths, negative rates, a zero rate and a non-finite
rate, in every category; valuing them a block at a time changes nothing either.
"""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.evaluate import economics
from cartsim.evaluate.cashflows import UTILITY, UTILITY_LOSS, Course, Flow, FlowRows, each_flow
from cartsim.evaluate.discounting import discounted_integral, discounted_polynomial_integral
from cartsim.inputs.clinical import Economics, UtilityNorms
from cartsim.inputs.units import DAYS_PER_YEAR

ECONOMICS = Economics(discount_rate_costs=0.03, discount_rate_effects=0.015)
CATEGORIES = (UTILITY, UTILITY_LOSS, "active_disease", "follow_up")


def reference(course: Course) -> dict[str, np.ndarray]:
    """Every entry valued, added to its patient's total in flow order (lumps: none here)."""
    n = course.arrival.size
    coef = economics._age_polynomial(course)
    totals: dict[str, np.ndarray] = {}
    raw_totals: dict[str, np.ndarray] = {}
    for flow in each_flow(course.flows):
        owner = flow.owners(n)
        arrival = course.arrival[owner]
        t0 = (flow.start - arrival) / DAYS_PER_YEAR
        t1 = (np.fmax(flow.start, flow.end) - arrival) / DAYS_PER_YEAR
        valid = np.isfinite(t0) & np.isfinite(t1)
        t0, t1 = np.where(valid, t0, 0.0), np.where(valid, t1, 0.0)
        effects = flow.category in (UTILITY, UTILITY_LOSS)
        rate = ECONOMICS.discount_rate_effects if effects else ECONOMICS.discount_rate_costs
        if flow.category == UTILITY and coef is not None:
            c = coef[:, owner]
            value = flow.rate * discounted_polynomial_integral(t0, t1, rate, c)
            raw = flow.rate * discounted_polynomial_integral(t0, t1, 0.0, c)
        else:
            value = discounted_integral(t0, t1, rate, flow.rate)
            raw = flow.rate * (t1 - t0)
        total = totals.setdefault(flow.category, np.zeros(n))
        raw_total = raw_totals.setdefault("undiscounted" if not effects else flow.category,
                                          np.zeros(n))  # fmt: skip
        for j, p in enumerate(owner):
            total[p] += value[j]
            raw_total[p] += raw[j]
    lived, lost = totals.pop(UTILITY, np.zeros(n)), totals.pop(UTILITY_LOSS, np.zeros(n))
    lived_raw = raw_totals.get(UTILITY, np.zeros(n))
    lost_raw = raw_totals.get(UTILITY_LOSS, np.zeros(n))
    table = {f"cost_{k}": v for k, v in sorted(totals.items())}
    table["cost_total"] = np.sum(list(table.values()), axis=0)
    table["cost_undiscounted"] = raw_totals.get("undiscounted", np.zeros(n))
    table["qaly_total"] = lived + np.maximum(lost, -np.maximum(lived, 0.0))
    table["qaly_undiscounted"] = lived_raw + np.maximum(lost_raw, -np.maximum(lived_raw, 0.0))
    table["life_years"] = (course.end - course.arrival) / DAYS_PER_YEAR
    return table


def random_values(rng: np.random.Generator, shape: tuple[int, ...], nan_rate: bool):
    start = rng.uniform(0.0, 3000.0, shape)
    length = rng.choice([0.0, 0.0, 0.0, -5.0, 1e-8, 30.0, 400.0, np.inf], shape)
    end = start + length
    start[rng.random(shape) < 0.05] = np.nan
    rate = rng.choice([0.7, -0.2, 0.0, 12_000.0, -3_000.0], shape)
    if nan_rate:  # nonsense no scenario passes: kept as valuing it gives
        rate[rng.random(shape) < 0.3] = np.nan
    return start, end, rate


def random_flows(rng: np.random.Generator, n: int, sparse: bool) -> list[Flow | FlowRows]:
    flows: list[Flow | FlowRows] = []
    for i in range(16):
        category = CATEGORIES[i % len(CATEGORIES)]
        if i % 4 == 1:
            rows = tuple(CATEGORIES[(i + j) % len(CATEGORIES)] for j in range(5))
            flows.append(FlowRows(rows, *random_values(rng, (5, n), i == 5)))
        elif sparse and i % 2:
            patient = np.sort(rng.choice(n, int(rng.integers(0, n)), replace=False))
            flows.append(Flow(category, *random_values(rng, (patient.size,), False), patient))
        else:
            flows.append(Flow(category, *random_values(rng, (n,), i == 6)))
    return flows


@pytest.mark.parametrize("block", [economics.BLOCK, 1], ids=["stacked", "a flow a block"])
@pytest.mark.parametrize("sparse", [False, True], ids=["every patient", "entries"])
@pytest.mark.parametrize("norms", [False, True], ids=["flat utility", "age-scaled utility"])
@pytest.mark.parametrize("seed", range(3))
def test_evaluate_equals_valuing_every_entry(
    seed: int, norms: bool, sparse: bool, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    n = 37
    arrival = rng.uniform(0.0, 1500.0, n)
    course = Course(arrival=arrival, end=arrival + 20_000.0)
    if norms:
        course.age = rng.uniform(20.0, 70.0, n)
        course.male = rng.random(n) < 0.4
        course.norms = UtilityNorms(intercept=0.95, male=0.02, age=-0.0002, age_squared=-0.00003)
    course.flows = random_flows(rng, n, sparse)
    monkeypatch.setattr(economics, "BLOCK", block)
    got = economics.evaluate(course, ECONOMICS)
    expected = reference(course)
    assert list(got) == list(expected)
    for name, values in expected.items():
        assert got[name].tobytes() == values.tobytes(), name
    assert np.count_nonzero(np.nan_to_num(got["cost_total"])) > n // 2  # not all empty


def test_a_category_whose_entries_are_all_empty_is_a_column_of_zeros() -> None:
    arrival = np.zeros(3)
    course = Course(arrival=arrival, end=arrival + 1000.0)
    course.flows = [Flow("relapse_care", np.full(3, 10.0), np.full(3, 5.0), np.full(3, 99.0))]
    got = economics.evaluate(course, ECONOMICS)
    assert got["cost_relapse_care"].tobytes() == np.zeros(3).tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_a_subset_of_rows_is_the_subset_of_their_flows(seed: int) -> None:
    """Some patients of a course whose states are rows (a service mix's routed patients): the
    same values and budget as the subset of the rows taken one by one as flows."""
    rng = np.random.default_rng(seed)
    n = 37
    arrival = rng.uniform(0.0, 1500.0, n)
    course = Course(arrival=arrival, end=arrival + 20_000.0)
    course.flows = random_flows(rng, n, sparse=True)
    flat = Course(arrival=arrival, end=course.end, flows=list(each_flow(course.flows)))
    mask = rng.random(n) < 0.6
    rows, flows = course.subset(mask), flat.subset(mask)
    assert any(isinstance(f, FlowRows) for f in rows.flows)
    got, expected = economics.evaluate(rows, ECONOMICS), economics.evaluate(flows, ECONOMICS)
    assert all(got[k].tobytes() == v.tobytes() for k, v in expected.items())
    spend = economics.budget(rows, np.full(int(mask.sum()), 10.0), 8)
    assert spend.equals(economics.budget(flows, np.full(int(mask.sum()), 10.0), 8))
    assert np.count_nonzero(np.nan_to_num(got["cost_total"])) > 0  # not all empty
