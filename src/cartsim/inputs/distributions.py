"""Distribution specifications and their vectorised samplers.

This module owns the mapping from a distribution *spec* (a frozen pydantic model, as written in
a scenario file) to a vectorised sampler. It knows nothing about patients, pathways or simpy.

Every spec offers the same four methods:

``ppf(u)``
    Inverse CDF, the sampling primitive. Callers pass pre-drawn uniforms (common random
    numbers), so the same ``u`` always maps to the same value and a larger ``u`` never maps to a
    smaller value. Uniforms are clipped to ``[0, 1 - 2**-53]``, the range of
    ``Generator.random``; a NaN uniform gives NaN.
``sample(rng, size)``
    ``ppf(rng.random(size))``; always consumes exactly ``size`` uniforms, whatever the spec.
``mean()``
    The analytic mean.
``interval(level)``
    The central ``level`` interval from ``ppf``.

Parameters named ``mean`` are stored on the attribute ``mean_`` (input and dumps use the key
``mean``) because ``mean()`` is the method.
"""

import math
import numbers
from abc import abstractmethod
from typing import Annotated, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from scipy import special

__all__ = [
    "AnyDist",
    "Beta",
    "BaseDistribution",
    "Categorical",
    "DistSpec",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Normal",
    "NumberOrDist",
    "Triangular",
    "Uniform",
    "Weibull",
    "to_dist",
]

FloatArray = npt.NDArray[np.float64]

_U_MAX = float(np.nextafter(1.0, 0.0))  # largest value Generator.random can return
_TINY = float(np.finfo(np.float64).tiny)  # smallest normal double
_BETA_U_FLOOR = 2.0**-64  # betaincinv is unreliable below this; such u map to 0
_PROB_TOL = 1e-6
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _fmt(value: float) -> str:
    """Format a number for an error message (``-1.0`` -> ``-1``)."""
    return f"{value:.12g}"


def _uniforms(u: npt.ArrayLike) -> FloatArray:
    """Return ``u`` as a float64 array clipped to ``[0, 1 - 2**-53]`` (NaN stays NaN)."""
    return np.minimum(np.maximum(np.asarray(u, dtype=np.float64), 0.0), _U_MAX)


def _propagate_nan(u: FloatArray, x: FloatArray) -> FloatArray:
    """Return ``x`` with NaN wherever ``u`` is NaN (for lookups that would otherwise hide it)."""
    nan = np.isnan(u)
    if nan.any():
        x = np.where(nan, np.nan, x)
    return x


def _check_one_pair(
    name: str, given: dict[str, bool], pairs: tuple[tuple[str, str], tuple[str, str]]
) -> int:
    """Check exactly one complete parameter pair is given; return its index in ``pairs``."""
    present = [k for k, v in given.items() if v]
    complete = [i for i, pair in enumerate(pairs) if all(given[k] for k in pair)]
    options = " or ".join(f"({a}, {b})" for a, b in pairs)
    if len(complete) == 1 and len(present) == 2:
        return complete[0]
    if len(complete) == 2:
        raise ValueError(f"{name} takes either {options}, not both")
    if not present:
        raise ValueError(f"{name} needs one parameter pair: {options}")
    raise ValueError(
        f"{name} needs exactly one complete parameter pair, {options}; got {', '.join(present)}"
    )


class _Table:
    """Lookup arrays derived from a list field.

    Built on validation (lazily otherwise) and rebuilt if the list is swapped, as by
    ``model_copy(update=...)``. Any two tables compare equal, so spec equality depends on the
    fields alone.
    """

    __slots__ = ("cum", "source", "values")

    def __init__(self, source: list[float], values: FloatArray, cum: FloatArray) -> None:
        self.source = source
        self.values = values
        self.cum = cum

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Table)

    __hash__ = None  # type: ignore[assignment]


class BaseDistribution(BaseModel):
    """Common base of all distribution specs: frozen, no unknown keys, finite numbers."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, serialize_by_alias=True
    )

    @field_validator("sd", "sigma", "shape", "scale", "alpha", "beta", check_fields=False)
    @classmethod
    def _positive(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"{info.field_name} must be > 0, got {_fmt(value)}")
        return value

    @abstractmethod
    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        """Inverse CDF.

        Parameters
        ----------
        u : array_like
            Uniforms in ``[0, 1)``; values outside are clipped.

        Returns
        -------
        numpy.ndarray
            float64 values of the same shape, non-decreasing in ``u``.
        """

    @abstractmethod
    def mean(self) -> float:
        """Analytic mean of the distribution."""

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        """Draw ``size`` values as ``ppf(rng.random(size))``.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of uniforms; exactly ``size`` of them are consumed.
        size : int or tuple of int
            Output shape.
        """
        return self.ppf(rng.random(size))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Central interval ``(ppf((1 - level) / 2), ppf((1 + level) / 2))``.

        Parameters
        ----------
        level : float
            Probability content, strictly between 0 and 1.
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {_fmt(level)}")
        lo, hi = self.ppf(np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0]))
        return float(lo), float(hi)


class Fixed(BaseDistribution):
    """A constant ``value``."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return _uniforms(u) * 0.0 + self.value  # keeps shape and NaN

    def mean(self) -> float:
        return self.value


class Exponential(BaseDistribution):
    """Exponential with the given ``mean`` (> 0)."""

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean")

    @field_validator("mean_")
    @classmethod
    def _mean_positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"mean must be > 0, got {_fmt(value)}")
        return value

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return -self.mean_ * np.log1p(-_uniforms(u))

    def mean(self) -> float:
        return self.mean_


class Uniform(BaseDistribution):
    """Uniform on ``[low, high)`` with ``low < high``."""

    dist: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low < self.high:
            raise ValueError(
                f"low must be < high, got low={_fmt(self.low)}, high={_fmt(self.high)}"
            )
        return self

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.low + _uniforms(u) * (self.high - self.low)

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


class Triangular(BaseDistribution):
    """Triangular on ``[low, high]`` peaking at ``mode``.

    Needs ``low <= mode <= high`` and ``low < high``.
    """

    dist: Literal["triangular"] = "triangular"
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "need low <= mode <= high and low < high, got "
                f"low={_fmt(self.low)}, mode={_fmt(self.mode)}, high={_fmt(self.high)}"
            )
        return self

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        uu = _uniforms(u)
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

    dist: Literal["normal"] = "normal"
    mean_: float = Field(alias="mean")
    sd: float
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(
                f"low must be < high, got low={_fmt(self.low)}, high={_fmt(self.high)}"
            )
        _, p_lo, p_hi = self._tail_probs()
        if not p_hi - p_lo > 0:
            raise ValueError(
                f"truncation range [{self.low!r}, {self.high!r}] has no probability mass "
                f"for mean={_fmt(self.mean_)}, sd={_fmt(self.sd)}"
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
        uu = _uniforms(u)
        upper, p_lo, p_hi = self._tail_probs()
        if upper:
            q = p_lo + (1.0 - uu) * (p_hi - p_lo)  # survival probability, decreasing in u
            z = -special.ndtri(np.clip(q, _TINY, 1.0))
        else:
            p = p_lo + uu * (p_hi - p_lo)
            z = special.ndtri(np.clip(p, _TINY, _U_MAX))
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
            return math.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_mass)

        m = self.mean_ + self.sd * (ratio(a) - ratio(b))
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return float(min(max(m, lo), hi))


class _EitherPair(BaseDistribution):
    """A distribution given by exactly one of two parameter pairs; a given ``mean`` is > 0."""

    PAIRS: ClassVar[tuple[tuple[str, str], tuple[str, str]]]

    @field_validator("mean_", check_fields=False)
    @classmethod
    def _mean_positive(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"mean must be > 0, got {_fmt(value)}")
        return value

    @model_validator(mode="after")
    def _one_pair(self) -> Self:
        names = [name for pair in self.PAIRS for name in pair]
        given = {n: getattr(self, "mean_" if n == "mean" else n) is not None for n in names}
        _check_one_pair(self.dist, given, self.PAIRS)  # type: ignore[attr-defined]
        return self


class LogNormal(_EitherPair):
    """Log-normal given either ``mean``, ``sd`` of the variable or ``mu``, ``sigma`` of its log.

    Exactly one pair must be given; ``mean``, ``sd`` and ``sigma`` must be > 0.
    """

    PAIRS = (("mean", "sd"), ("mu", "sigma"))
    dist: Literal["lognormal"] = "lognormal"
    mean_: float | None = Field(default=None, alias="mean")
    sd: float | None = None
    mu: float | None = None
    sigma: float | None = None

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
        return np.exp(mu + sigma * special.ndtri(_uniforms(u)))

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        mu, sigma = self.mu_sigma
        return math.exp(mu + 0.5 * sigma * sigma)


class Gamma(_EitherPair):
    """Gamma given either ``shape``, ``scale`` or ``mean``, ``sd`` (all > 0); exactly one pair."""

    PAIRS = (("shape", "scale"), ("mean", "sd"))
    dist: Literal["gamma"] = "gamma"
    shape: float | None = None
    scale: float | None = None
    mean_: float | None = Field(default=None, alias="mean")
    sd: float | None = None

    @property
    def shape_scale(self) -> tuple[float, float]:
        """``(shape, scale)``, converted from ``mean``, ``sd`` if those were given."""
        if self.shape is not None and self.scale is not None:
            return self.shape, self.scale
        assert self.mean_ is not None and self.sd is not None
        return (self.mean_ / self.sd) ** 2, self.sd**2 / self.mean_

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        shape, scale = self.shape_scale
        return scale * special.gammaincinv(shape, _uniforms(u))

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        shape, scale = self.shape_scale
        return shape * scale


class Beta(BaseDistribution):
    """Beta on ``[0, 1]`` given either ``alpha``, ``beta`` (> 0) or ``mean``, ``sd``.

    With ``mean``, ``sd``: ``0 < mean < 1``, ``sd > 0`` and ``sd**2 < mean * (1 - mean)``.
    """

    dist: Literal["beta"] = "beta"
    alpha: float | None = None
    beta: float | None = None
    mean_: float | None = Field(default=None, alias="mean")
    sd: float | None = None

    @field_validator("mean_")
    @classmethod
    def _mean_in_unit(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value < 1.0:
            raise ValueError(f"mean must be in (0, 1), got {_fmt(value)}")
        return value

    @model_validator(mode="after")
    def _one_pair(self) -> Self:
        given = {
            "alpha": self.alpha is not None,
            "beta": self.beta is not None,
            "mean": self.mean_ is not None,
            "sd": self.sd is not None,
        }
        if _check_one_pair("beta", given, (("alpha", "beta"), ("mean", "sd"))) == 1:
            assert self.mean_ is not None and self.sd is not None
            limit = self.mean_ * (1.0 - self.mean_)
            if not self.sd**2 < limit:
                raise ValueError(
                    f"sd must satisfy sd**2 < mean*(1-mean) = {_fmt(limit)}, "
                    f"got sd={_fmt(self.sd)} for mean={_fmt(self.mean_)}"
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
        uu = _uniforms(u)
        # betaincinv returns NaN or unordered subnormals for astronomically small u; those
        # (far below any uniform a generator produces) map to the lower bound 0.
        x = special.betaincinv(a, b, np.where(uu < _BETA_U_FLOOR, 0.0, uu))
        return np.where(~(x >= _TINY) & ~np.isnan(uu), 0.0, x)

    def mean(self) -> float:
        if self.mean_ is not None:
            return self.mean_
        a, b = self.alpha_beta
        return a / (a + b)


class Weibull(BaseDistribution):
    """Weibull with ``shape`` and ``scale`` (both > 0)."""

    dist: Literal["weibull"] = "weibull"
    shape: float
    scale: float

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.scale * (-np.log1p(-_uniforms(u))) ** (1.0 / self.shape)

    def mean(self) -> float:
        return float(self.scale * special.gamma(1.0 + 1.0 / self.shape))


class Categorical(BaseDistribution):
    """Discrete ``values`` with ``probabilities`` (>= 0, summing to 1 within 1e-6).

    ``ppf`` works on the values sorted ascending (so it is monotone), after dropping
    zero-probability values and rescaling the probabilities to sum to exactly 1.
    """

    dist: Literal["categorical"] = "categorical"
    values: list[float]
    probabilities: list[float]
    _table: _Table | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        n, k = len(self.values), len(self.probabilities)
        if n == 0:
            raise ValueError("values must not be empty")
        if n != k:
            raise ValueError(f"values and probabilities must have the same length, got {n} and {k}")
        for i, p in enumerate(self.probabilities):
            if not p >= 0:
                raise ValueError(f"probabilities must be >= 0, got {_fmt(p)} at index {i}")
        total = math.fsum(self.probabilities)
        if not abs(total - 1.0) <= _PROB_TOL:
            raise ValueError(f"probabilities must sum to 1 (within 1e-6), got {total!r}")
        self._lookup()
        return self

    def _lookup(self) -> _Table:
        table = self._table
        if table is None or table.source is not self.values:
            v = np.asarray(self.values, dtype=np.float64)
            p = np.asarray(self.probabilities, dtype=np.float64)
            keep = p > 0
            order = np.argsort(v[keep], kind="stable")
            v, p = v[keep][order], p[keep][order]
            cum = np.cumsum(p) / p.sum()
            cum[-1] = 1.0
            table = _Table(self.values, v, cum)
            self._table = table
        return table

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        table = self._lookup()
        uu = _uniforms(u)
        idx = np.searchsorted(table.cum, uu, side="right")
        out = table.values[np.minimum(idx, table.values.size - 1)]
        return _propagate_nan(uu, out)

    def mean(self) -> float:
        total = math.fsum(self.probabilities)
        return (
            math.fsum(v * p for v, p in zip(self.values, self.probabilities, strict=True)) / total
        )


class Empirical(BaseDistribution):
    """Each listed value equally likely (repeats count separately); ``values`` non-empty."""

    dist: Literal["empirical"] = "empirical"
    values: list[float]
    _table: _Table | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _non_empty(self) -> Self:
        if not self.values:
            raise ValueError("values must not be empty")
        self._sorted()
        return self

    def _sorted(self) -> FloatArray:
        table = self._table
        if table is None or table.source is not self.values:
            v = np.sort(np.asarray(self.values, dtype=np.float64))
            table = _Table(self.values, v, v)
            self._table = table
        return table.values

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        v = self._sorted()
        uu = _uniforms(u)
        pos = np.minimum(uu * v.size, v.size - 1)
        nan = np.isnan(pos)
        if nan.any():
            pos = np.where(nan, 0.0, pos)
        out = v[pos.astype(np.intp)]  # truncation is floor as pos >= 0
        return _propagate_nan(uu, out)

    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)


AnyDist = (
    Fixed
    | Exponential
    | Uniform
    | Triangular
    | Normal
    | LogNormal
    | Gamma
    | Beta
    | Weibull
    | Categorical
    | Empirical
)
"""Plain union of all spec classes (usable with ``isinstance``)."""

DistSpec = Annotated[AnyDist, Field(discriminator="dist")]
"""Any distribution spec, selected by its ``dist`` key; use as a pydantic field type."""

NumberOrDist = float | DistSpec
"""A plain number (meaning a fixed value) or a distribution spec."""


def to_dist(x: NumberOrDist) -> DistSpec:
    """Return ``x`` as a spec: numbers become ``Fixed(value=x)``, specs are returned as is.

    Parameters
    ----------
    x : float or distribution spec
        A real number (not bool) or a spec instance.

    Raises
    ------
    TypeError
        If ``x`` is neither.
    """
    if isinstance(x, BaseDistribution):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"expected a number or a distribution spec, got {type(x).__name__}")
    return Fixed(value=float(x))
