"""The contract of every distribution spec, its shared helpers and base classes.

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
from abc import abstractmethod
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

FloatArray = npt.NDArray[np.float64]


U_MAX = float(np.nextafter(1.0, 0.0))  # largest value Generator.random can return


TINY = float(np.finfo(np.float64).tiny)  # smallest normal double


BETA_U_FLOOR = 2.0**-64  # betaincinv is unreliable below this; such u map to 0


PROB_TOL = 1e-6


LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def fmt(value: float) -> str:
    """Format a number for an error message (``-1.0`` -> ``-1``)."""
    return f"{value:.12g}"


def uniforms(u: npt.ArrayLike) -> FloatArray:
    """Return ``u`` as a float64 array clipped to ``[0, 1 - 2**-53]`` (NaN stays NaN)."""
    return np.minimum(np.maximum(np.asarray(u, dtype=np.float64), 0.0), U_MAX)


def propagate_nan(u: FloatArray, x: FloatArray) -> FloatArray:
    """Return ``x`` with NaN wherever ``u`` is NaN (for lookups that would otherwise hide it)."""
    nan = np.isnan(u)
    if nan.any():
        x = np.where(nan, np.nan, x)
    return x


def check_one_pair(
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


class Table:
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
        return isinstance(other, Table)

    __hash__ = None  # type: ignore[assignment]


class BaseDistribution(BaseModel):
    """Common base of all distribution specs: frozen, no unknown keys, finite numbers."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, serialize_by_alias=True, strict=True
    )

    @field_validator("sd", "sigma", "shape", "scale", "alpha", "beta", check_fields=False)
    @classmethod
    def _positive(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"{info.field_name} must be > 0, got {fmt(value)}")
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
            raise ValueError(f"level must be in (0, 1), got {fmt(level)}")
        lo, hi = self.ppf(np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0]))
        return float(lo), float(hi)


class EitherPair(BaseDistribution):
    """A distribution given by exactly one of two parameter pairs; a given ``mean`` is > 0."""

    PAIRS: ClassVar[tuple[tuple[str, str], tuple[str, str]]]

    @field_validator("mean_", check_fields=False)
    @classmethod
    def _mean_positive(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"mean must be > 0, got {fmt(value)}")
        return value

    @model_validator(mode="after")
    def _one_pair(self) -> Self:
        names = [name for pair in self.PAIRS for name in pair]
        given = {n: getattr(self, "mean_" if n == "mean" else n) is not None for n in names}
        check_one_pair(self.dist, given, self.PAIRS)  # type: ignore[attr-defined]
        try:
            with np.errstate(all="ignore"):
                ends = self.ppf([0.0, 0.5, U_MAX])  # the whole range the sampler can draw
                finite = math.isfinite(self.mean()) and bool(np.isfinite(ends).all())
        except ArithmeticError:
            finite = False
        if not finite:
            raise ValueError(f"{self.dist} parameters too extreme to give finite values")  # type: ignore[attr-defined]
        return self
