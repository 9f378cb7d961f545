"""Distribution specs: sampling matches the analytic moments, ppf is a monotone inverse CDF,
invalid specs are rejected, and sampling is reproducible."""

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from scipy import special

from cartsim.inputs.distributions import (
    BaseDistribution,
    Beta,
    Categorical,
    DistSpec,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    NumberOrDist,
    Triangular,
    Uniform,
    Weibull,
    to_dist,
)

N_DRAWS = 200_000
ADAPTER: TypeAdapter[BaseDistribution] = TypeAdapter(DistSpec)


def _truncnorm_mean(mean: float, sd: float, low: float, high: float) -> float:
    """Textbook truncated-normal mean: mean + sd * (pdf(a) - pdf(b)) / (cdf(b) - cdf(a))."""
    a, b = (low - mean) / sd, (high - mean) / sd

    def pdf(z: float) -> float:
        return 0.0 if math.isinf(z) else math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    mass = 0.5 * (math.erfc(a / math.sqrt(2.0)) - math.erfc(b / math.sqrt(2.0)))
    return mean + sd * (pdf(a) - pdf(b)) / mass


# (spec, mean from the textbook formula, computed independently of the module)
MEAN_CASES: list[tuple[BaseDistribution, float]] = [
    (Fixed(value=3.5), 3.5),
    (Exponential(mean=2.0), 2.0),
    (Uniform(low=-1.0, high=3.0), 1.0),
    (Triangular(low=1.0, mode=2.0, high=6.0), 3.0),
    (Triangular(low=0.0, mode=0.0, high=1.0), 1.0 / 3.0),
    (Normal(mean=5.0, sd=2.0), 5.0),
    (Normal(mean=1.0, sd=2.0, low=0.0), _truncnorm_mean(1.0, 2.0, 0.0, math.inf)),
    (Normal(mean=0.0, sd=1.0, low=-1.0, high=2.0), _truncnorm_mean(0.0, 1.0, -1.0, 2.0)),
    (Normal(mean=10.0, sd=3.0, high=4.0), _truncnorm_mean(10.0, 3.0, -math.inf, 4.0)),
    (Normal(mean=0.0, sd=1.0, low=4.0), _truncnorm_mean(0.0, 1.0, 4.0, math.inf)),
    (LogNormal(mu=0.5, sigma=0.4), math.exp(0.5 + 0.4**2 / 2)),
    (LogNormal(mean=10.0, sd=4.0), 10.0),
    (Gamma(shape=2.5, scale=1.5), 3.75),
    (Gamma(mean=4.0, sd=3.0), 4.0),
    (Beta(alpha=2.0, beta=5.0), 2.0 / 7.0),
    (Beta(mean=0.3, sd=0.1), 0.3),
    (Weibull(shape=1.5, scale=2.0), 2.0 * math.gamma(1.0 + 1.0 / 1.5)),
    (Categorical(values=[5.0, 1.0, 3.0], probabilities=[0.2, 0.5, 0.3]), 2.4),
    (Empirical(values=[4.0, 1.0, 1.0, 7.0]), 3.25),
]

# Specs used for the monotonicity, reproducibility and round-trip checks.
SPECS = [spec for spec, _ in MEAN_CASES] + [
    Gamma(shape=0.05, scale=1.0),
    Beta(alpha=0.2, beta=0.3),
    Weibull(shape=0.3, scale=1.0),
    Normal(mean=0.0, sd=1.0, low=30.0, high=31.0),
    Categorical(values=[2.0, 1.0, 0.0], probabilities=[0.5, 0.0, 0.5]),
]


def _ids(specs: list[BaseDistribution]) -> list[str]:
    return [f"{i}-{type(s).__name__}" for i, s in enumerate(specs)]


@pytest.mark.parametrize(("spec", "expected"), MEAN_CASES, ids=_ids([s for s, _ in MEAN_CASES]))
@pytest.mark.statistical
def test_sample_mean_matches_analytic_mean(
    spec: BaseDistribution, expected: float, seed: int
) -> None:
    assert spec.mean() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    x = spec.sample(np.random.default_rng(seed), N_DRAWS)
    assert x.shape == (N_DRAWS,)
    assert x.dtype == np.float64
    standard_error = x.std() / math.sqrt(N_DRAWS)
    assert abs(x.mean() - spec.mean()) <= 5.0 * standard_error + 1e-12
    if isinstance(spec, LogNormal | Gamma | Beta) and spec.sd is not None:
        # the (mean, sd) parameterisation reproduces both moments
        assert x.mean() == pytest.approx(spec.mean_, rel=0.01)
        assert x.std() == pytest.approx(spec.sd, rel=0.02)


def test_converted_parameters_have_the_requested_moments() -> None:
    mu, sigma = LogNormal(mean=10.0, sd=4.0).mu_sigma
    mean = math.exp(mu + sigma**2 / 2)
    var = (math.exp(sigma**2) - 1.0) * math.exp(2 * mu + sigma**2)
    assert (mean, math.sqrt(var)) == pytest.approx((10.0, 4.0), rel=1e-12)

    k, theta = Gamma(mean=4.0, sd=3.0).shape_scale
    assert (k * theta, math.sqrt(k) * theta) == pytest.approx((4.0, 3.0), rel=1e-12)

    a, b = Beta(mean=0.3, sd=0.1).alpha_beta
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert (a / (a + b), math.sqrt(var)) == pytest.approx((0.3, 0.1), rel=1e-12)


def _triangular_cdf(x: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    left = (x - low) ** 2 / ((high - low) * (mode - low))
    right = 1.0 - (high - x) ** 2 / ((high - low) * (high - mode))
    return np.where(x <= mode, left, right)


def _normal_cdf(x: np.ndarray, mean: float, sd: float, low: float, high: float) -> np.ndarray:
    """Truncated normal CDF, computed from survival functions (accurate in the upper tail)."""
    a, b, z = (low - mean) / sd, (high - mean) / sd, (x - mean) / sd
    return (special.ndtr(-a) - special.ndtr(-z)) / (special.ndtr(-a) - special.ndtr(-b))


U_GRID = np.array([1e-12, 1e-9, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1.0 - 1e-12])


@pytest.mark.parametrize(
    ("spec", "cdf"),
    [
        (Exponential(mean=2.0), lambda x: -np.expm1(-x / 2.0)),
        (Uniform(low=-1.0, high=3.0), lambda x: (x + 1.0) / 4.0),
        (Triangular(low=1.0, mode=2.0, high=6.0), lambda x: _triangular_cdf(x, 1.0, 2.0, 6.0)),
        (Normal(mean=5.0, sd=2.0), lambda x: special.ndtr((x - 5.0) / 2.0)),
        (
            Normal(mean=1.0, sd=2.0, low=0.0, high=4.0),
            lambda x: _normal_cdf(x, 1.0, 2.0, 0.0, 4.0),
        ),
        (Normal(mean=0.0, sd=1.0, low=5.0), lambda x: _normal_cdf(x, 0.0, 1.0, 5.0, np.inf)),
        (LogNormal(mu=0.5, sigma=0.4), lambda x: special.ndtr((np.log(x) - 0.5) / 0.4)),
        (Gamma(shape=2.5, scale=1.5), lambda x: special.gammainc(2.5, x / 1.5)),
        (Beta(alpha=2.0, beta=5.0), lambda x: special.betainc(2.0, 5.0, x)),
        (Weibull(shape=1.5, scale=2.0), lambda x: -np.expm1(-((x / 2.0) ** 1.5))),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseDistribution) else "",
)
def test_ppf_inverts_the_cdf(
    spec: BaseDistribution, cdf: Callable[[np.ndarray], np.ndarray]
) -> None:
    np.testing.assert_allclose(cdf(spec.ppf(U_GRID)), U_GRID, rtol=1e-7, atol=1e-10)


uniform_lists = st.lists(
    st.floats(0.0, 1.0, exclude_max=True, allow_subnormal=True), min_size=2, max_size=64
)


@settings(max_examples=60, deadline=None)
@given(u=uniform_lists)
def test_ppf_is_monotone_and_finite(u: list[float]) -> None:
    sorted_u = np.sort(np.asarray(u))
    for spec in SPECS:
        x = spec.ppf(sorted_u)
        assert np.all(np.isfinite(x)), spec
        assert np.all(np.diff(x) >= 0), spec


positive = st.floats(0.05, 50.0)


@st.composite
def random_specs(draw: st.DrawFn) -> BaseDistribution:
    kind = draw(st.sampled_from(["normal", "triangular", "gamma", "beta", "weibull", "lognormal"]))
    if kind == "normal":
        mean, sd = draw(st.floats(-100, 100)), draw(st.floats(0.01, 100))
        low = draw(st.none() | st.floats(-10, 10).map(lambda z: mean + sd * z))
        high = draw(st.none() | st.floats(0.01, 10).map(lambda w: (low or mean) + sd * w))
        return Normal(mean=mean, sd=sd, low=low, high=high)
    if kind == "triangular":
        low, a, b = draw(st.floats(-100, 100)), draw(st.floats(0, 50)), draw(st.floats(0.01, 50))
        return Triangular(low=low, mode=low + a, high=low + a + b)
    if kind == "gamma":
        return Gamma(shape=draw(st.floats(0.01, 1e4)), scale=draw(positive))
    if kind == "beta":
        return Beta(alpha=draw(st.floats(0.05, 1e3)), beta=draw(st.floats(0.05, 1e3)))
    if kind == "weibull":
        return Weibull(shape=draw(st.floats(0.1, 20)), scale=draw(positive))
    return LogNormal(mu=draw(st.floats(-5, 5)), sigma=draw(st.floats(0.01, 3)))


@settings(max_examples=80, deadline=None)
@given(spec=random_specs(), u=uniform_lists)
def test_ppf_is_monotone_for_random_parameters(spec: BaseDistribution, u: list[float]) -> None:
    x = spec.ppf(np.sort(np.asarray(u)))
    assert not np.any(np.isnan(x))
    assert np.all(np.diff(x) >= 0)


@settings(max_examples=60, deadline=None)
@given(
    mean=st.floats(-100, 100),
    sd=st.floats(0.01, 100),
    z_low=st.floats(-10, 10),
    width=st.floats(0.01, 10),
    u=uniform_lists,
)
def test_truncated_normal_stays_within_bounds(
    mean: float, sd: float, z_low: float, width: float, u: list[float]
) -> None:
    low, high = mean + sd * z_low, mean + sd * (z_low + width)
    spec = Normal(mean=mean, sd=sd, low=low, high=high)
    x = spec.ppf(np.asarray(u + [0.0, 0.5, 1.0 - 2.0**-53]))
    assert np.all((x >= low) & (x <= high))
    assert low <= spec.mean() <= high


@pytest.mark.statistical
def test_truncated_normal_sample_within_bounds(seed: int) -> None:
    spec = Normal(mean=2.0, sd=5.0, low=0.0, high=3.0)
    x = spec.sample(np.random.default_rng(seed), N_DRAWS)
    assert x.min() >= 0.0
    assert x.max() <= 3.0
    assert x.min() < 0.01 and x.max() > 2.99  # the whole range is reached


@pytest.mark.statistical
def test_categorical_frequencies_match_probabilities(seed: int) -> None:
    values = [30.0, 10.0, 20.0, 40.0]
    probabilities = [0.1, 0.6, 0.3, 0.0]
    x = Categorical(values=values, probabilities=probabilities).sample(
        np.random.default_rng(seed), N_DRAWS
    )
    assert set(np.unique(x)) == {10.0, 20.0, 30.0}  # zero-probability value never drawn
    for v, p in zip(values, probabilities, strict=True):
        freq = np.mean(x == v)
        assert abs(freq - p) <= 5.0 * math.sqrt(p * (1.0 - p) / N_DRAWS) + 1e-12


def test_categorical_ppf_uses_cumulative_probability_of_sorted_values() -> None:
    spec = Categorical(values=[3.0, 1.0, 2.0], probabilities=[0.25, 0.25, 0.5])
    u = np.array([0.0, 0.2499, 0.25, 0.7499, 0.75, 0.9999])
    np.testing.assert_array_equal(spec.ppf(u), [1.0, 1.0, 2.0, 2.0, 3.0, 3.0])


@pytest.mark.statistical
def test_empirical_returns_only_listed_values_in_proportion(seed: int) -> None:
    values = [5.0, 2.0, 2.0, 9.0, 2.5]
    spec = Empirical(values=values)
    x = spec.sample(np.random.default_rng(seed), N_DRAWS)
    assert set(np.unique(x)) == set(values)
    assert abs(np.mean(x == 2.0) - 0.4) <= 5.0 * math.sqrt(0.4 * 0.6 / N_DRAWS)
    u = np.array([0.0, 0.19, 0.2, 0.59, 0.6, 0.8, 0.999])
    expected = [sorted(values)[math.floor(ui * len(values))] for ui in u]
    np.testing.assert_array_equal(spec.ppf(u), expected)


def test_fixed_returns_value_and_consumes_the_stream() -> None:
    rng = np.random.default_rng(9)
    x = Fixed(value=4.25).sample(rng, (3, 4))
    assert x.shape == (3, 4)
    assert np.all(x == 4.25)
    reference = np.random.default_rng(9)
    reference.random(12)
    assert rng.random() == reference.random()  # same stream position as any other spec


@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_same_seed_gives_identical_draws(spec: BaseDistribution) -> None:
    a = spec.sample(np.random.default_rng(123), 1_000)
    b = spec.sample(np.random.default_rng(123), 1_000)
    np.testing.assert_array_equal(a, b)
    u = np.random.default_rng(123).random(1_000)
    np.testing.assert_array_equal(a, spec.ppf(u))


@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_round_trip_through_dump_and_discriminated_union(spec: BaseDistribution) -> None:
    data = spec.model_dump()
    assert "mean_" not in data
    again = ADAPTER.validate_python(data)
    assert again == spec
    assert type(again) is type(spec)
    assert ADAPTER.validate_json(spec.model_dump_json()) == spec


def test_interval() -> None:
    lo, hi = Normal(mean=0.0, sd=1.0).interval(0.95)
    z = NormalDist().inv_cdf(0.975)
    assert (lo, hi) == pytest.approx((-z, z), rel=1e-12)
    assert Fixed(value=2.0).interval() == (2.0, 2.0)
    spec = Gamma(shape=3.0, scale=2.0)
    assert spec.interval(0.5) == pytest.approx(tuple(spec.ppf(np.array([0.25, 0.75]))))
    with pytest.raises(ValueError, match="level"):
        spec.interval(1.0)


def test_ppf_keeps_shape_and_propagates_nan() -> None:
    for spec in SPECS:
        assert spec.ppf(np.full((2, 3), 0.5)).shape == (2, 3)
        assert np.isnan(spec.ppf(np.array([np.nan]))[0])


def test_specs_are_frozen() -> None:
    spec = Exponential(mean=1.0)
    with pytest.raises(ValidationError):
        spec.__setattr__("mean_", 2.0)


def test_to_dist() -> None:
    assert to_dist(3) == Fixed(value=3.0)
    assert to_dist(2.5).mean() == 2.5
    spec = Exponential(mean=1.0)
    assert to_dist(spec) is spec
    with pytest.raises(TypeError):
        to_dist(True)
    with pytest.raises(TypeError):
        to_dist("3")  # type: ignore[arg-type]


def test_number_or_dist_as_field_type() -> None:
    class Stage(BaseModel):
        duration: NumberOrDist

    assert Stage(duration=3).duration == 3.0
    stage = Stage.model_validate({"duration": {"dist": "gamma", "mean": 4, "sd": 2}})
    assert stage.duration == Gamma(mean=4.0, sd=2.0)
    assert to_dist(stage.duration).mean() == 4.0


INVALID: list[tuple[dict[str, object], str]] = [
    ({"dist": "normal", "mean": 0, "sd": -1}, "sd must be > 0, got -1"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 2, "high": 1}, "low must be < high"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 50}, "no probability mass"),
    ({"dist": "exponential", "mean": 0}, "mean must be > 0, got 0"),
    ({"dist": "uniform", "low": 1, "high": 1}, "low must be < high, got low=1, high=1"),
    ({"dist": "triangular", "low": 0, "mode": 3, "high": 2}, "mode=3"),
    ({"dist": "triangular", "low": 1, "mode": 1, "high": 1}, "low < high"),
    ({"dist": "lognormal", "mean": 1, "sd": 1, "mu": 0, "sigma": 1}, "not both"),
    ({"dist": "lognormal"}, r"\(mean, sd\) or \(mu, sigma\)"),
    ({"dist": "lognormal", "mean": 2}, "got mean"),
    ({"dist": "lognormal", "mu": 0, "sigma": 0}, "sigma must be > 0, got 0"),
    ({"dist": "lognormal", "mean": -2, "sd": 1}, "mean must be > 0, got -2"),
    ({"dist": "gamma", "shape": 2, "scale": 1, "mean": 2, "sd": 1}, "not both"),
    ({"dist": "gamma", "scale": 1}, r"\(shape, scale\) or \(mean, sd\)"),
    ({"dist": "gamma", "shape": -1, "scale": 1}, "shape must be > 0, got -1"),
    ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "sd=0.6"),
    ({"dist": "beta", "mean": 1.5, "sd": 0.1}, "mean must be in"),
    ({"dist": "beta", "alpha": 0, "beta": 1}, "alpha must be > 0, got 0"),
    ({"dist": "beta"}, r"\(alpha, beta\) or \(mean, sd\)"),
    ({"dist": "weibull", "shape": 1, "scale": 0}, "scale must be > 0, got 0"),
    ({"dist": "categorical", "values": [1, 2], "probabilities": [0.5, 0.4]}, "got 0.9"),
    ({"dist": "categorical", "values": [1, 2], "probabilities": [1.5, -0.5]}, "got -0.5"),
    ({"dist": "categorical", "values": [1, 2], "probabilities": [1.0]}, "same length"),
    ({"dist": "categorical", "values": [], "probabilities": []}, "must not be empty"),
    ({"dist": "empirical", "values": []}, "must not be empty"),
    ({"dist": "fixed", "value": 1, "sd": 2}, "Extra inputs"),
    ({"dist": "fixed", "value": float("nan")}, "finite"),
    ({"dist": "poisson", "mean": 1}, "poisson"),
    ({"value": 1}, "dist"),
]


@pytest.mark.parametrize(("data", "message"), INVALID, ids=[m for _, m in INVALID])
def test_invalid_specs_are_rejected(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(data)


def test_direct_construction_validates() -> None:
    with pytest.raises(ValidationError, match="sd must be > 0, got -1"):
        Normal(mean=0.0, sd=-1.0)
    with pytest.raises(ValidationError):
        Exponential(mean_=1.0)  # type: ignore[call-arg]
