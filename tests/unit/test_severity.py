"""Severity modifier: the QALE integral in closed form, NICE's cut-offs, and the shortfall table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from cartsim.decide.severity import (
    general_population_qale,
    qaly_weight,
    shortfall_table,
    weighted_comparisons,
)
from cartsim.inputs.clinical import Gompertz, Mortality, UtilityNorms

TINY_B = 1e-9  # Gompertz with a vanishing b: a constant (exponential) hazard a


def exponential(rate: float, max_age: float = 100.0) -> Mortality:
    g = Gompertz(a=rate, b=TINY_B)
    return Mortality(female=g, male=g, max_age=max_age)


@pytest.mark.parametrize("discount", [0.0, 0.035])
def test_constant_utility_and_hazard_match_the_closed_form(discount: float) -> None:
    # integral_0^T u exp(-(lam + delta) t) dt = u (1 - exp(-(lam + delta) T)) / (lam + delta)
    lam, u, age = 0.02, 1.0, 40.0
    norms = UtilityNorms(intercept=u)
    got = general_population_qale(np.array([age]), np.array([True]), exponential(lam), norms,
                                  discount, None)  # fmt: skip
    k, horizon = lam + math.log1p(discount), 100.0 - age
    assert got[0] == pytest.approx(u * -math.expm1(-k * horizon) / k, rel=1e-6)


def test_utility_scales_and_the_horizon_cuts() -> None:
    lam, age, years = 0.05, 30.0, 10.0
    norms = UtilityNorms(intercept=0.8)
    got = general_population_qale(np.array([age]), np.array([False]), exponential(lam), norms,
                                  0.035, years)  # fmt: skip
    k = lam + math.log1p(0.035)
    assert got[0] == pytest.approx(0.8 * -math.expm1(-k * years) / k, rel=1e-6)


def test_gompertz_and_age_norms_match_quadrature() -> None:
    mort = Mortality(female=Gompertz(a=3e-5, b=0.095), male=Gompertz(a=6e-5, b=0.09),
                     max_age=100.0)  # fmt: skip
    norms = UtilityNorms(intercept=0.95, male=0.02, age=-0.0003, age_squared=-0.00003)
    ages, female = np.array([25.0, 60.0]), np.array([True, False])
    got = general_population_qale(ages, female, mort, norms, 0.035, None)
    delta = math.log1p(0.035)
    for i, (age, fem) in enumerate(zip(ages, female, strict=True)):
        g = mort.female if fem else mort.male

        def f(t: float, age: float = age, g: Gompertz = g, fem: bool = fem) -> float:
            s = math.exp(-g.a / g.b * math.exp(g.b * age) * math.expm1(g.b * t))
            x = age + t
            u = min(1.0, 0.95 + (0.0 if fem else 0.02) - 0.0003 * x - 0.00003 * x * x)
            return s * u * math.exp(-delta * t)

        assert got[i] == pytest.approx(quad(f, 0.0, 100.0 - age, epsabs=1e-10)[0], rel=1e-6)


@pytest.mark.parametrize(
    ("absolute", "proportional", "weight"),
    [
        (11.99, 0.849, 1.0),
        (12.0, 0.0, 1.2),
        (0.0, 0.85, 1.2),
        (17.99, 0.949, 1.2),
        (18.0, 0.0, 1.7),
        (0.0, 0.95, 1.7),
        (30.0, 1.0, 1.7),
    ],
)
def test_nice_cut_offs(absolute: float, proportional: float, weight: float) -> None:
    assert qaly_weight(absolute, proportional) == weight


def test_shortfall_table_is_general_population_minus_current_practice() -> None:
    lam = 0.04
    k = lam + math.log1p(0.035)
    qale = -math.expm1(-k * 60.0) / k  # age 40, max_age 100, utility 1
    rows = []
    for rep, soc_qaly in enumerate([2.0, 2.2, 1.8]):
        for arm, qaly in (("soc", soc_qaly), ("cart", 9.0)):
            rows += [{"replication": rep, "arm": arm, "age": 40.0, "female": True,
                      "qaly_total": qaly}] * 2  # fmt: skip
    table = shortfall_table(pd.DataFrame(rows), "soc", exponential(lam), None, 0.035, None)
    row = table.iloc[0]
    assert row["qale_general_population"] == pytest.approx(qale, rel=1e-6)
    assert row["qaly_current_practice"] == pytest.approx(2.0)
    assert row["absolute_shortfall"] == pytest.approx(qale - 2.0, rel=1e-6)
    assert row["proportional_shortfall"] == pytest.approx((qale - 2.0) / qale, rel=1e-6)
    assert row["absolute_shortfall_ci_low"] < row["absolute_shortfall"]
    assert row["qaly_weight"] == qaly_weight(qale - 2.0, (qale - 2.0) / qale)
    for end in ("_ci_low", "_ci_high"):
        expected = qaly_weight(row[f"absolute_shortfall{end}"], row[f"proportional_shortfall{end}"])
        assert row[f"qaly_weight{end}"] == expected
    assert row["qaly_weight_ci_low"] <= row["qaly_weight"] <= row["qaly_weight_ci_high"]
    assert row["n_replications"] == 3


def test_weighted_comparisons_scale_qaly_gains_only() -> None:
    rows = []
    for rep in range(4):
        for arm, cost, qaly in (("soc", 1000.0 + rep, 5.0 + 0.1 * rep), ("new", 9000.0, 6.5)):
            rows.append({"replication": rep, "arm": arm, "disease": "SLE", "cost_total": cost,
                         "qaly_total": qaly})  # fmt: skip
    table = weighted_comparisons(pd.DataFrame(rows), "soc", 1.7, [20_000.0, 30_000.0])
    assert len(table) == 4 and set(table["qaly_weight"]) == {1.0, 1.7}
    plain = table[table["qaly_weight"] == 1.0].set_index("wtp")
    heavy = table[table["qaly_weight"] == 1.7].set_index("wtp")
    for wtp in (20_000.0, 30_000.0):
        p, h = plain.loc[wtp], heavy.loc[wtp]
        assert h["delta_cost"] == pytest.approx(p["delta_cost"])
        assert h["inmb"] == pytest.approx(1.7 * p["delta_qaly"] * wtp - p["delta_cost"])
        assert h["icer"] == pytest.approx(p["icer"] / 1.7)
