"""Distribution specs as written in scenario files: the union of all kinds and ``to_dist``.

This module owns the mapping from a distribution *spec* (a frozen pydantic model) to a vectorised
sampler; it knows nothing about patients, pathways or simpy. The contract every spec keeps is in
:mod:`cartsim.inputs.dist_base`, the continuous kinds in :mod:`cartsim.inputs.dist_continuous`;
the discrete kinds (categorical, empirical) are here.
"""

import math
import numbers
from typing import Annotated, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import Field, PrivateAttr, model_validator

from cartsim.inputs.dist_base import (
    PROB_TOL,
    BaseDistribution,
    FloatArray,
    Table,
    fmt,
    propagate_nan,
    uniforms,
)
from cartsim.inputs.dist_continuous import (
    Beta,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)

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


class Categorical(BaseDistribution):
    """Discrete ``values`` with ``probabilities`` (>= 0, summing to 1 within 1e-6).

    ``ppf`` works on the values sorted ascending (so it is monotone), after dropping
    zero-probability values and rescaling the probabilities to sum to exactly 1.
    """

    dist: Literal["categorical"] = Field(
        default="categorical", description="the distribution: categorical"
    )
    values: list[float] = Field(description="the possible values, in the unit of the field")
    probabilities: list[float] = Field(description="probability of each value (summing to 1)")
    _table: Table | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        n, k = len(self.values), len(self.probabilities)
        if n == 0:
            raise ValueError("values must not be empty")
        if n != k:
            raise ValueError(f"values and probabilities must have the same length, got {n} and {k}")
        for i, p in enumerate(self.probabilities):
            if not p >= 0:
                raise ValueError(f"probabilities must be >= 0, got {fmt(p)} at index {i}")
        total = math.fsum(self.probabilities)
        if not abs(total - 1.0) <= PROB_TOL:
            raise ValueError(f"probabilities must sum to 1 (within 1e-6), got {total!r}")
        self._lookup()
        return self

    def _lookup(self) -> Table:
        table = self._table
        if table is None or table.source is not self.values:
            v = np.asarray(self.values, dtype=np.float64)
            p = np.asarray(self.probabilities, dtype=np.float64)
            keep = p > 0
            order = np.argsort(v[keep], kind="stable")
            v, p = v[keep][order], p[keep][order]
            cum = np.cumsum(p) / p.sum()
            cum[-1] = 1.0
            table = Table(self.values, v, cum)
            self._table = table
        return table

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        table = self._lookup()
        uu = uniforms(u)
        idx = np.searchsorted(table.cum, uu, side="right")
        out = table.values[np.minimum(idx, table.values.size - 1)]
        return propagate_nan(uu, out)

    def mean(self) -> float:
        total = math.fsum(self.probabilities)
        return (
            math.fsum(v * p for v, p in zip(self.values, self.probabilities, strict=True)) / total
        )


class Empirical(BaseDistribution):
    """Each listed value equally likely (repeats count separately); ``values`` non-empty."""

    dist: Literal["empirical"] = Field(
        default="empirical", description="the distribution: empirical"
    )
    values: list[float] = Field(description="the possible values, in the unit of the field")
    _table: Table | None = PrivateAttr(default=None)

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
            table = Table(self.values, v, v)
            self._table = table
        return table.values

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        v = self._sorted()
        uu = uniforms(u)
        pos = np.minimum(uu * v.size, v.size - 1)
        nan = np.isnan(pos)
        if nan.any():
            pos = np.where(nan, 0.0, pos)
        out = v[pos.astype(np.intp)]  # truncation is floor as pos >= 0
        return propagate_nan(uu, out)

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
