"""Valuing only the flows' entries that can be non-zero gives the same bits as valuing every one.

The reference values every entry (each flow over every patient, or over its entries) with the
discounting functions directly; the flows mix empty intervals, reversed and missing (NaN) bounds,
an open end, negative rates, a zero rate and a non-finite rate, in every category.
"""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.evaluate import economics
from cartsim.evaluate.cashflows import UTILITY, UTILITY_LOSS, Course, Flow
from cartsim.evaluate.discounting import discounted_integral, discounted_polynomial_integral
from cartsim.inputs.clinical import UtilityNorms
from cartsim.inputs.units import DAYS_PER_YEAR

RATES = (0.03, 0.015)
CATEGORIES = (UTILITY, UTILITY_LOSS, "active_disease", "follow_up")


def reference(course: Course, flows: list[Flow]) -> np.ndarray:
    """Per flow and patient: every entry valued, summed per patient in entry order."""
    n = course.arrival.size
    coef = economics._age_polynomial(course)
    out = np.zeros((2, len(flows), n))
    for i, flow in enumerate(flows):
        owner = flow.owners(n)
        arrival = course.arrival[owner]
        t0 = (flow.start - arrival) / DAYS_PER_YEAR
        t1 = (np.fmax(flow.start, flow.end) - arrival) / DAYS_PER_YEAR
        valid = np.isfinite(t0) & np.isfinite(t1)
        t0, t1 = np.where(valid, t0, 0.0), np.where(valid, t1, 0.0)
        rate = RATES[0] if flow.category not in (UTILITY, UTILITY_LOSS) else RATES[1]
        if flow.category == UTILITY and coef is not None:
            c = coef[:, owner]
            value = flow.rate * discounted_polynomial_integral(t0, t1, rate, c)
            raw = flow.rate * discounted_polynomial_integral(t0, t1, 0.0, c)
        else:
            value = discounted_integral(t0, t1, rate, flow.rate)
            raw = flow.rate * (t1 - t0)
        for j, p in enumerate(owner):  # several entries of a patient: added in order
            out[0, i, p] += value[j]
            out[1, i, p] += raw[j]
    return out


def random_flows(rng: np.random.Generator, n: int, sparse: bool) -> list[Flow]:
    flows = []
    for i in range(24):
        size = int(rng.integers(0, 2 * n)) if sparse and i % 2 else n
        start = rng.uniform(0.0, 3000.0, size)
        length = rng.choice([0.0, 0.0, 0.0, -5.0, 1e-8, 30.0, 400.0, np.inf], size)
        end = start + length
        start[rng.random(size) < 0.05] = np.nan
        rate = rng.choice([0.7, -0.2, 0.0, 12_000.0, -3_000.0], size)
        if i == 5:
            rate[: max(1, size // 3)] = np.nan  # nonsense no scenario passes: kept as it was
        patient = np.sort(rng.integers(0, n, size)) if sparse and i % 2 else None
        flows.append(Flow(CATEGORIES[i % len(CATEGORIES)], start, end, rate, patient))
    return flows


@pytest.mark.parametrize("sparse", [False, True], ids=["every patient", "entries"])
@pytest.mark.parametrize("norms", [False, True], ids=["flat utility", "age-scaled utility"])
@pytest.mark.parametrize("seed", range(4))
def test_flow_values_equal_valuing_every_entry(sparse: bool, norms: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 37
    arrival = rng.uniform(0.0, 1500.0, n)
    course = Course(arrival=arrival, end=arrival + 20_000.0)
    if norms:
        course.age = rng.uniform(20.0, 70.0, n)
        course.male = rng.random(n) < 0.4
        course.norms = UtilityNorms(intercept=0.95, male=0.02, age=-0.0002, age_squared=-0.00003)
    flows = random_flows(rng, n, sparse)
    got = economics._flow_values(course, flows, RATES)
    expected = reference(course, flows)
    assert got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()
    assert np.count_nonzero(np.nan_to_num(got)) > 50  # not all empty
