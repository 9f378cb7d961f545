"""EVPPI by regression against closed forms on a linear-normal model, and against EVPI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartsim.decide.evppi import MAX_GP_PARAMETERS, default_groups, evppi, value_of_information
from cartsim.decide.psa import evpi

A, B, C = 200.0, 1000.0, 600.0  # INB = A + B*theta1 + C*theta2, theta ~ N(0, 1) independent


def expected_positive_part(mu: float, sigma: float) -> float:
    """E[max(0, X)] for X ~ N(mu, sigma^2)."""
    z = mu / sigma
    return mu * stats.norm.cdf(z) + sigma * stats.norm.pdf(z)


def linear_normal(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two arms; arm ``new`` has net benefit INB (at wtp 1) over arm ``old``."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal((n, 3))  # the third parameter is not used by the model
    inb = A + B * theta[:, 0] + C * theta[:, 1]
    iteration = np.arange(n)
    psa = pd.DataFrame(
        {
            "iteration": np.repeat(iteration, 2),
            "arm": np.tile(["old", "new"], n),
            "cost": np.column_stack([np.zeros(n), -inb]).ravel(),
            "qaly": 0.0,
        }
    )
    params = pd.DataFrame(
        {"iteration": iteration, "p1": theta[:, 0], "p2": theta[:, 1], "unused": theta[:, 2]}
    )
    return psa, params


def test_value_of_information_is_the_mean_max_minus_the_max_mean() -> None:
    fitted = np.array([[-1.0, 2.0], [3.0, -4.0]])  # two iterations, two arms against a baseline
    # mean of max(0, row max) = (2 + 3) / 2; best on average: max(0, 1, -1) = 1
    assert value_of_information(fitted) == pytest.approx(1.5)
    assert value_of_information(np.array([[1.0], [2.0]])) == 0.0  # never a reason to switch


@pytest.mark.statistical
def test_single_parameter_matches_the_closed_form_within_five_percent(seed: int) -> None:
    # 100,000 iterations: the Monte Carlo error of the estimate (the sampling of iterations and
    # of the intercept the other parameter leaves) is about 1.2% of p2's EVPPI, so 5% is over 4
    # standard errors for any seed
    psa, params = linear_normal(100_000, seed=seed)
    table = evppi(psa, params, wtp=1.0, groups={"p1": ["p1"], "p2": ["p2"]}, bootstrap=0)
    got = table.set_index("group")["evppi_per_patient"]
    for name, sigma in (("p1", B), ("p2", C)):
        exact = expected_positive_part(A, sigma) - max(A, 0.0)
        assert got[name] == pytest.approx(exact, rel=0.05), name


@pytest.mark.statistical
def test_a_group_of_all_parameters_equals_the_evpi_of_the_sample(seed: int) -> None:
    psa, params = linear_normal(1500, seed=seed)
    table = evppi(
        psa, params, wtp=1.0, groups={"both": ["p1", "p2"]}, bootstrap=50, max_gp_points=800
    )
    row = table.iloc[0]
    # the model depends on nothing else, so EVPPI of all parameters is the EVPI of the sample
    sample_evpi = evpi(psa, [1.0])["evpi_per_patient"].iloc[0]
    assert row["method"] == "Gaussian process"
    assert abs(row["evppi_per_patient"] - sample_evpi) < 0.02 * sample_evpi
    assert row["se_per_patient"] > 0
    exact = expected_positive_part(A, math.hypot(B, C)) - A
    assert abs(row["evppi_per_patient"] - exact) < 4 * row["se_per_patient"]


@pytest.mark.statistical
def test_a_parameter_the_model_does_not_use_is_worth_about_nothing(seed: int) -> None:
    psa, params = linear_normal(4000, seed=seed)
    table = evppi(psa, params, wtp=1.0, groups={"unused": ["unused"], "p1": ["p1"]}, bootstrap=20)
    got = table.set_index("group")
    assert got.loc["unused", "evppi_per_patient"] < 0.02 * got.loc["p1", "evppi_per_patient"]
    assert got.loc["unused", "evppi_per_patient"] < 3 * got.loc["unused", "se_per_patient"] + 1.0


def test_population_scales_and_groups_are_ranked_largest_first() -> None:
    psa, params = linear_normal(2000, seed=4)
    table = evppi(psa, params, 1.0, {"p2": ["p2"], "p1": ["p1"]}, population=250.0, bootstrap=0)
    assert list(table["group"]) == ["p1", "p2"]
    np.testing.assert_allclose(table["evppi_population"], 250.0 * table["evppi_per_patient"])


def test_an_unknown_parameter_is_refused() -> None:
    psa, params = linear_normal(100, seed=5)
    with pytest.raises(ValueError, match="nope"):
        evppi(psa, params, 1.0, {"bad": ["nope"]})


def test_default_groups_hold_each_parameter_its_prefix_groups_and_all() -> None:
    groups = default_groups(["cap_a", "cap_b", "cart_x", "util_u"])
    assert groups["cap_a"] == ["param_cap_a"]
    assert groups["group: capacity and delivery"] == ["param_cap_a", "param_cap_b"]
    assert "group: CAR-T clinical" not in groups  # a group of one is the parameter itself
    assert len(groups["group: all parameters"]) == 4


@pytest.mark.statistical
def test_a_large_group_is_screened_to_its_most_informative_members(seed: int) -> None:
    psa, params = linear_normal(3000, seed=seed)
    rng = np.random.default_rng(seed + 1)
    extra = {f"x{i}": rng.standard_normal(len(params)) for i in range(MAX_GP_PARAMETERS)}
    params = params.assign(**extra)
    columns = ["p1", "p2", *extra]
    table = evppi(psa, params, wtp=1.0, groups={"big": columns}, bootstrap=0, max_gp_points=800)
    assert f"{MAX_GP_PARAMETERS} of {len(columns)} members" in table["method"].iloc[0]
    # the two parameters the model uses survive the screening: all the sample's EVPI is found
    sample_evpi = evpi(psa, [1.0])["evpi_per_patient"].iloc[0]
    assert abs(table["evppi_per_patient"].iloc[0] - sample_evpi) < 0.02 * sample_evpi
