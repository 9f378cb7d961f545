"""Every hand-written ``ppf`` against ``scipy.stats`` on a grid of uniforms, tails included.

Relative tolerance 1e-12 where both sides use the same closed form, 1e-9 where either inverts a
special function numerically; absolute 1e-12 near a bound of the support (beta maps u < 2**-64
to 0 by design).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cartsim.inputs.dist_base import U_MAX
from cartsim.inputs.distributions import (
    BaseDistribution,
    Beta,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)

GRID = np.array(
    [1e-300, 1e-15, 1e-10, 1e-6, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]
    + [1 - 1e-6, 1 - 1e-10, U_MAX]
)


def lognormal_from_moments(mean: float, sd: float):
    """scipy's lognormal with the given mean and sd, converted here independently."""
    s2 = math.log(1 + (sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(s2), scale=mean * math.exp(-s2 / 2))


def gamma_from_moments(mean: float, sd: float):
    return stats.gamma(a=(mean / sd) ** 2, scale=sd**2 / mean)


def beta_from_moments(mean: float, sd: float):
    nu = mean * (1 - mean) / sd**2 - 1
    return stats.beta(mean * nu, (1 - mean) * nu)


def truncnorm(mean: float, sd: float, low: float, high: float):
    return stats.truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)


CASES: list[tuple[BaseDistribution, object, float]] = [
    (Normal(mean=5.0, sd=2.0), stats.norm(5.0, 2.0), 1e-12),
    (Normal(mean=-3.0, sd=0.1), stats.norm(-3.0, 0.1), 1e-12),
    (Normal(mean=1.0, sd=2.0, low=0.0, high=4.0), truncnorm(1.0, 2.0, 0.0, 4.0), 1e-9),
    (Normal(mean=34.0, sd=8.0, low=18.0, high=70.0), truncnorm(34.0, 8.0, 18.0, 70.0), 1e-9),
    (Normal(mean=0.0, sd=1.0, low=2.0), truncnorm(0.0, 1.0, 2.0, np.inf), 1e-9),
    (Normal(mean=0.0, sd=1.0, high=-1.0), truncnorm(0.0, 1.0, -np.inf, -1.0), 1e-9),
    (LogNormal(mu=0.5, sigma=0.4), stats.lognorm(s=0.4, scale=math.exp(0.5)), 1e-12),
    (LogNormal(mean=13.0, sd=2.0), lognormal_from_moments(13.0, 2.0), 1e-12),
    (LogNormal(mean=10.0, sd=25.0), lognormal_from_moments(10.0, 25.0), 1e-12),
    (Gamma(shape=2.5, scale=1.5), stats.gamma(a=2.5, scale=1.5), 1e-9),
    (Gamma(shape=0.3, scale=4.0), stats.gamma(a=0.3, scale=4.0), 1e-9),
    (Gamma(mean=12.0, sd=3.0), gamma_from_moments(12.0, 3.0), 1e-9),
    (Beta(alpha=2.0, beta=5.0), stats.beta(2.0, 5.0), 1e-9),
    (Beta(alpha=0.5, beta=0.7), stats.beta(0.5, 0.7), 1e-9),
    (Beta(mean=0.3, sd=0.1), beta_from_moments(0.3, 0.1), 1e-9),
    (Weibull(shape=1.5, scale=2.0), stats.weibull_min(c=1.5, scale=2.0), 1e-12),
    (Weibull(shape=0.4, scale=30.0), stats.weibull_min(c=0.4, scale=30.0), 1e-12),
    (Exponential(mean=2.0), stats.expon(scale=2.0), 1e-12),
    (Uniform(low=-1.0, high=3.0), stats.uniform(-1.0, 4.0), 1e-12),
    (Triangular(low=1.0, mode=2.0, high=6.0), stats.triang(0.2, loc=1.0, scale=5.0), 1e-9),
    (Triangular(low=0.0, mode=0.0, high=1.0), stats.triang(0.0, loc=0.0, scale=1.0), 1e-9),
    (Triangular(low=2.0, mode=5.0, high=5.0), stats.triang(1.0, loc=2.0, scale=3.0), 1e-9),
]


def _id(case: tuple[BaseDistribution, object, float]) -> str:
    spec = case[0]
    return f"{type(spec).__name__}-" + "-".join(
        f"{k}={v:g}" for k, v in spec.model_dump().items() if isinstance(v, float)
    )


@pytest.mark.filterwarnings("ignore:Error in function boost:RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_ppf_matches_scipy(case: tuple[BaseDistribution, object, float]) -> None:
    spec, reference, rtol = case
    expected = reference.ppf(GRID)  # type: ignore[attr-defined]
    got = spec.ppf(GRID)
    assert np.isfinite(got).all()
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=rtol, atol=1e-12)
    assert finite[5:-3].all()  # the body of the grid was compared
