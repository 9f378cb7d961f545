"""Continuous distribution specs (and ``fixed``), each sampled by its inverse CDF.

See :mod:`cartsim.inputs.dist_base` for the contract every spec keeps.
"""

import math
from typing import Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator
from scipy import special

from cartsim.inputs.dist_base import (
    BETA_U_FLOOR,
    LOG_SQRT_2PI,
    TINY,
    U_MAX,
    BaseDistribution,
    EitherPair,
    FloatArray,
    check_one_pair,
    fmt,
    uniforms,
)


class Fixed(BaseDistribution):
    """A constant ``value``."""

    dist: Literal["fixed"] = Field(default="fixed", description="the distribution: fixed")
    value: float = Field(description="the constant, in the unit of the field")

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return uniforms(u) * 0.0 + self.value  # keeps shape and NaN

    def mean(self) -> float:
        return self.value


class Exponential(BaseDistribution):
    """Exponential with the given ``mean`` (> 0)."""

    dist: Literal["exponential"] = Field(
        default="exponential", description="the distribution: exponential"
    )
    mean_: float = Field(alias="mean", description="mean, in the unit of the field")

    @field_validator("mean_")
    @classmethod
    def _mean_positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"mean must be > 0, got {fmt(value)}")
        return value

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return -self.mean_ * np.log1p(-uniforms(u))

    def mean(self) -> float:
        return self.mean_


class Uniform(BaseDistribution):
    """Uniform on ``[low, high)`` with ``low < high``."""

    dist: Literal["uniform"] = Field(default="uniform", description="the distribution: uniform")
    low: float = Field(description="lower bound, in the unit of the field")
    high: float = Field(description="upper bound, in the unit of the field")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low < self.high:
            raise ValueError(f"low must be < high, got low={fmt(self.low)}, high={fmt(self.high)}")
        return self

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.low + uniforms(u) * (self.high - self.low)

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


class Triangular(BaseDistribution):
    """Triangular on ``[low, high]`` peaking at ``mode``.

    Needs ``low <= mode <= high`` and ``low < high``.
    """

    dist: Literal["triangular"] = Field(
        default="triangular", description="the distribution: triangular"
    )
    low: float = Field(description="lower bound, in the unit of the field")
    mode: float = Field(description="most likely value, in the unit of the field")
    high: float = Field(description="upper bound, in the unit of the field")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "need low <= mode <= high and low < high, got "
                f"low={fmt(self.low)}, mode={fmt(self.mode)}, high={fmt(self.high)}"
            )
        return self

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        uu = uniforms(u)
        low, mode, high = self.low, self.mode, self.high
        width = high - low
        split = (mode - low) / width
        # Each branch is clipped at the mode so rounding cannot break monotonicity at the split.
        left = np.minimum(low + np.sqrt(uu * (width * (mode - low))), mode)
        right = np.maximum(high - np.sqrt((1.0 - uu) * (width * (high - mode))), mode)
        return np.where(uu < split, left, right)

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class Normal(BaseDistribution):
    """Normal with ``mean`` and ``sd`` (> 0), truncated to ``[low, high]`` when either is given.

    Truncation is by inverse CDF on the truncated probability range, so no draws are rejected
    and ``ppf`` stays monotone. ``mean()`` is the mean of the truncated distribution.
    """

    dist: Literal["normal"] = Field(default="normal", description="the distribution: normal")
    mean_: float = Field(alias="mean", description="mean, in the unit of the field")
    sd: float = Field(description="standard deviation, in the unit of the field")
    low: float | None = Field(default=None, description="lower bound, in the unit of the field")
    high: float | None = Field(default=None, description="upper bound, in the unit of the field")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be < high, got low={fmt(self.low)}, high={fmt(self.high)}")
        _, p_lo, p_hi = self._tail_probs()
        if not p_hi - p_lo > 0:
            raise ValueError(
                f"truncation range [{self.low!r}, {self.high!r}] has no probability mass "
                f"for mean={fmt(self.mean_)}, sd={fmt(self.sd)}"
            )
        return self

    def _std_bounds(self) -> tuple[float, float]:
        a = -math.inf if self.low is None else (self.low - self.mean_) / self.sd
        b = math.inf if self.high is None else (self.high - self.mean_) / self.sd
        return a, b

    def _tail_probs(self) -> tuple[bool, float, float]:
        """``(upper, lo, hi)``: CDF values at the bounds, or survival values if ``upper``.

        The upper-tail form keeps precision when the range lies above the mean.
        """
        a, b = self._std_bounds()
        if a > 0:
            return True, float(special.ndtr(-b)), float(special.ndtr(-a))
        return False, float(special.ndtr(a)), float(special.ndtr(b))

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        uu = uniforms(u)
        upper, p_lo, p_hi = self._tail_probs()
        if upper:
            q = p_lo + (1.0 - uu) * (p_hi - p_lo)  # survival probability, decreasing in u
            z = -special.ndtri(np.clip(q, TINY, 1.0))
        else:
            p = p_lo + uu * (p_hi - p_lo)
            z = special.ndtri(np.clip(p, TINY, U_MAX))
        x: FloatArray = self.mean_ + self.sd * z
        if self.low is not None or self.high is not None:
            x = np.clip(x, self.low, self.high)
        return x

    def mean(self) -> float:
        if self.low is None and self.high is None:
            return self.mean_
        a, b = self._std_bounds()
        # log of the truncated mass, computed in the tail where it is accurate
        if a > 0:
            log_hi, log_lo = special.log_ndtr(-a), special.log_ndtr(-b)
        else:
            log_hi, log_lo = special.log_ndtr(b), special.log_ndtr(a)
        log_mass = log_hi + math.log1p(-math.exp(log_lo - log_hi))

        def ratio(z: float) -> float:
            """Standard normal pdf at ``z`` divided by the truncated mass."""
            if math.isinf(z):
                return 0.0
            return math.exp(-0.5 * z * z - LOG_SQRT_2PI - log_mass)

        m = self.mean_ + self.sd * (ratio(a) - ratio(b))
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return float(min(max(m, lo), hi))


class LogNormal(EitherPair):
    """Log-normal given either ``mean``, ``sd`` of the variable or ``mu``, ``sigma`` of its log.

    Exactly one pair must be given; ``mean``, ``sd`` and ``sigma`` must be > 0.
    """

    PAIRS = (("mean", "sd"), ("mu", "sigma"))
    dist: Literal["lognormal"] = Field(
        default="lognormal", description="the distribution: lognormal"
    )
    mean_: float | None = Field(
        default=None, alias="mean", description="mean, in the unit of the field"
    )
    sd: float | None = Field(
        default=None, description="standard deviation, in the unit of the field"
    )
    mu: float | None = Field(default=None, description="mean of the log of the value")
    sigma: float | None = Field(
        default=None, description="standard deviation of the log of the value (> 0)"
    )

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the log, converted from ``mean``, ``sd`` if those were given."""
        if self.mu is not None and self.sigma is not None:
            return self.mu, self.sigma
        assert self.mean_ is not None and self.sd is not None
        var_log = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - 0.5 * var_log, math.sqrt(var_log)

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        mu, sigma = self.mu_sigma
        return np.exp(mu + sigma * special.ndtri(uniforms(u)))

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        mu, sigma = self.mu_sigma
        return math.exp(mu + 0.5 * sigma * sigma)


class Gamma(EitherPair):
    """Gamma given either ``shape``, ``scale`` or ``mean``, ``sd`` (all > 0); exactly one pair."""

    PAIRS = (("shape", "scale"), ("mean", "sd"))
    dist: Literal["gamma"] = Field(default="gamma", description="the distribution: gamma")
    shape: float | None = Field(default=None, description="shape parameter (> 0, no unit)")
    scale: float | None = Field(
        default=None, description="scale parameter (> 0), in the unit of the field"
    )
    mean_: float | None = Field(
        default=None, alias="mean", description="mean, in the unit of the field"
    )
    sd: float | None = Field(
        default=None, description="standard deviation, in the unit of the field"
    )

    @property
    def shape_scale(self) -> tuple[float, float]:
        """``(shape, scale)``, converted from ``mean``, ``sd`` if those were given."""
        if self.shape is not None and self.scale is not None:
            return self.shape, self.scale
        assert self.mean_ is not None and self.sd is not None
        return (self.mean_ / self.sd) ** 2, self.sd**2 / self.mean_

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        shape, scale = self.shape_scale
        return scale * special.gammaincinv(shape, uniforms(u))

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        shape, scale = self.shape_scale
        return shape * scale


class Beta(BaseDistribution):
    """Beta on ``[0, 1]`` given either ``alpha``, ``beta`` (> 0) or ``mean``, ``sd``.

    With ``mean``, ``sd``: ``0 < mean < 1``, ``sd > 0`` and ``sd**2 < mean * (1 - mean)``.
    """

    dist: Literal["beta"] = Field(default="beta", description="the distribution: beta")
    alpha: float | None = Field(default=None, description="first shape parameter (> 0, no unit)")
    beta: float | None = Field(default=None, description="second shape parameter (> 0, no unit)")
    mean_: float | None = Field(
        default=None, alias="mean", description="mean, in the unit of the field"
    )
    sd: float | None = Field(
        default=None, description="standard deviation, in the unit of the field"
    )

    @field_validator("mean_")
    @classmethod
    def _mean_in_unit(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value < 1.0:
            raise ValueError(f"mean must be in (0, 1), got {fmt(value)}")
        return value

    @model_validator(mode="after")
    def _one_pair(self) -> Self:
        given = {
            "alpha": self.alpha is not None,
            "beta": self.beta is not None,
            "mean": self.mean_ is not None,
            "sd": self.sd is not None,
        }
        if check_one_pair("beta", given, (("alpha", "beta"), ("mean", "sd"))) == 1:
            assert self.mean_ is not None and self.sd is not None
            limit = self.mean_ * (1.0 - self.mean_)
            if not self.sd**2 < limit:
                raise ValueError(
                    f"sd must satisfy sd**2 < mean*(1-mean) = {fmt(limit)}, "
                    f"got sd={fmt(self.sd)} for mean={fmt(self.mean_)}"
                )
        return self

    @property
    def alpha_beta(self) -> tuple[float, float]:
        """``(alpha, beta)``, converted from ``mean``, ``sd`` if those were given."""
        if self.alpha is not None and self.beta is not None:
            return self.alpha, self.beta
        assert self.mean_ is not None and self.sd is not None
        m = self.mean_
        nu = m * (1.0 - m) / self.sd**2 - 1.0
        return m * nu, (1.0 - m) * nu

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        a, b = self.alpha_beta
        uu = uniforms(u)
        # betaincinv returns NaN or unordered subnormals for astronomically small u; those
        # (far below any uniform a generator produces) map to the lower bound 0.
        x = special.betaincinv(a, b, np.where(uu < BETA_U_FLOOR, 0.0, uu))
        return np.where(~(x >= TINY) & ~np.isnan(uu), 0.0, x)

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        a, b = self.alpha_beta
        return a / (a + b)


class Weibull(BaseDistribution):
    """Weibull with ``shape`` and ``scale`` (both > 0)."""

    dist: Literal["weibull"] = Field(default="weibull", description="the distribution: weibull")
    shape: float = Field(description="shape parameter (> 0, no unit)")
    scale: float = Field(description="scale parameter (> 0), in the unit of the field")

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.scale * (-np.log1p(-uniforms(u))) ** (1.0 / self.shape)

    def mean(self) -> float:
        return float(self.scale * special.gamma(1.0 + 1.0 / self.shape))
