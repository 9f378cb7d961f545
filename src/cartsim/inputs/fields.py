"""Field types of the scenario file, with their units, and the strict base model.

Units are in the type names: days, probabilities, non-negative amounts (money in the scenario's
currency and price year, rates per year). Every number must be finite, and a number must be
written as one (the text ``"5"`` or ``yes`` is refused where a number is expected).

Times are bounded so that a value meant for another field (a cost of 90,000 written as a
duration) is refused: a stage lasts at most :data:`MAX_STAGE_DAYS`, a run at most
:data:`MAX_HORIZON_DAYS`. Durations and ages must come from distributions that cannot go below
0 (or are truncated at ``low: 0``): :func:`mass_below_zero` gives the probability a spec puts
below 0, which the error message states.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from cartsim.inputs.dist_base import U_MAX, BaseDistribution
from cartsim.inputs.distributions import DistSpec

MAX_STAGE_DAYS = 3650.0  # ten years: longer than any stage of a care pathway
MAX_HORIZON_DAYS = 36525.0  # one hundred years
MAX_AGE_YEARS = 120.0  # older than any documented human

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


MAX_AMOUNT = 1e12  # money (a trillion) or rates: anything larger is a typing slip
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT)]
"""A non-negative amount (money, rate per year), at most 1e12."""


Positive = Annotated[float, Field(gt=0.0, le=MAX_AMOUNT)]


Days = Annotated[float, Field(ge=0.0, le=MAX_HORIZON_DAYS, description="days")]


def _iso_date(value: Any) -> Any:
    """Accept a date written as ISO text (``"2026-01-05"``) as well as a YAML date."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date that exists: {value!r} (write YYYY-MM-DD)") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]


def mass_below_zero(spec: BaseDistribution) -> float:
    """Probability that ``spec`` draws a value below 0 (by bisection on its inverse CDF)."""
    if float(spec.ppf(np.array([0.0]))[0]) >= 0.0:
        return 0.0
    lo, hi = 0.0, U_MAX  # ppf(lo) < 0; find the smallest u with ppf(u) >= 0
    if float(spec.ppf(np.array([hi]))[0]) < 0.0:
        return 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(spec.ppf(np.array([mid]))[0]) < 0.0:
            lo = mid
        else:
            hi = mid
    return hi


def bounded_time(limit: float, unit: str, whole_range: bool = False) -> AfterValidator:
    """A validator: a time (number or distribution) that is never negative, with mean <= limit
    (or, with ``whole_range``, every value it can draw <= limit)."""

    def check(value: float | BaseDistribution) -> float | BaseDistribution:
        if isinstance(value, BaseDistribution):
            try:
                problem = _time_problem(value, limit, unit, whole_range)
            except TypeError:  # a spec that cannot be a key (an empirical table): not kept
                problem = _time_problem.__wrapped__(value, limit, unit, whole_range)
            if problem is not None:
                raise ValueError(problem)
            return value
        if not 0.0 <= value <= limit:
            raise ValueError(f"must be between 0 and {limit:g} {unit}, got {value:g}")
        return value

    return AfterValidator(check)


@functools.lru_cache(maxsize=4096)
def _time_problem(
    value: BaseDistribution, limit: float, unit: str, whole_range: bool
) -> str | None:
    """What is wrong with distribution ``value`` as a time of at most ``limit`` (None: nothing).
    A function of the spec's values alone, so kept by them: a draw of a probabilistic analysis
    validates the same literal specs again and again."""
    try:
        with np.errstate(all="ignore"):
            probe = value.ppf(np.array([1e-6, 0.5, 1.0 - 1e-6]))
            finite = bool(np.isfinite(probe).all() and np.isfinite(value.mean()))
    except ArithmeticError:
        finite = False
    if not finite:
        return (
            f"this {getattr(value, 'dist', '')} distribution gives values that are not "
            "finite numbers: its parameters are out of any plausible range"
        )
    below = mass_below_zero(value)
    if below > 0.0:
        kind = getattr(value, "dist", "")
        return (
            f"{unit} cannot be negative, but this {kind} distribution "
            f"puts probability {below:.3g} below 0: use a non-negative distribution "
            "(lognormal, gamma, weibull) or truncate it with low: 0"
        )
    top = float(value.ppf(np.array([U_MAX]))[0])
    if whole_range and not top <= limit:
        return (
            f"draws values up to {top:.6g} {unit}, above the maximum of {limit:g} {unit}: "
            "truncate it with high"
        )
    mean = value.mean()
    if not mean <= limit:
        return f"mean {mean:.6g} {unit} exceeds the maximum of {limit:g} {unit}"
    return None


StageDays = Annotated[
    float | DistSpec,
    bounded_time(MAX_STAGE_DAYS, "days"),
    Field(description=f"days (a number or a distribution), at most {MAX_STAGE_DAYS:g}"),
]
"""A stage duration in days: a number or a non-negative distribution with mean <= 3650."""


AgeYears = Annotated[
    float | DistSpec,
    bounded_time(MAX_AGE_YEARS, "years", whole_range=True),
    Field(description=f"years (a number or a distribution), at most {MAX_AGE_YEARS:g}"),
]
"""An age in years: a number or a distribution of values between 0 and 120."""


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base model: unknown keys are errors, instances are immutable, numbers finite and real."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)
