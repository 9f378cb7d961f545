"""Continuous-time discounting of costs (EUR) and health outcomes (QALYs).

All times are in years from the start of the time horizon. Discount rates are quoted as
annual *effective* rates ``r`` (3% is ``0.03``), as in national HTA guidelines. They are
converted to the equivalent continuous (force-of-interest) rate ``delta = ln(1 + r)``, so
that ``exp(-delta * t) == (1 + r) ** -t`` and one year of delay discounts by exactly
``1 / (1 + r)``.

The functions are pure and vectorised: ``t``, ``t0``, ``t1``, ``level`` and ``amount`` may be
scalars or numpy arrays that broadcast against each other; the rate is a scalar. Scalar
inputs give a Python ``float``, array inputs a ``numpy.ndarray`` of ``float64``.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "continuous_rate",
    "discount_factor",
    "discounted_integral",
    "discounted_point",
    "discounted_polynomial_integral",
]

FloatArray = NDArray[np.float64]


def continuous_rate(rate: float) -> float:
    """Continuous-time discount rate equivalent to an annual effective rate.

    Parameters
    ----------
    rate : float
        Annual effective discount rate ``r`` (e.g. ``0.03`` for 3% per year); must be finite
        and ``>= 0``.

    Returns
    -------
    float
        ``delta = ln(1 + r)`` per year.

    Raises
    ------
    ValueError
        If ``rate`` is negative or not finite.
    """
    r = float(rate)
    if not math.isfinite(r) or r < 0.0:
        raise ValueError(f"discount rate must be a finite number >= 0, got {rate!r}")
    return math.log1p(r)


def _out(x: FloatArray) -> float | FloatArray:
    return float(x) if x.ndim == 0 else x


@overload
def discount_factor(t: float, rate: float) -> float: ...
@overload
def discount_factor(t: ArrayLike, rate: float) -> float | FloatArray: ...
def discount_factor(t: ArrayLike, rate: float) -> float | FloatArray:
    """Discount factor at time ``t``.

    Parameters
    ----------
    t : float or array_like
        Time in years.
    rate : float
        Annual effective discount rate ``r``; the continuous equivalent
        ``delta = ln(1 + r)`` is used, so the factor is ``exp(-delta * t) = (1 + r) ** -t``.
        ``rate = 0`` gives a factor of 1.

    Returns
    -------
    float or numpy.ndarray
        Discount factor(s), dimensionless.
    """
    delta = continuous_rate(rate)
    tt = np.asarray(t, dtype=np.float64)
    if delta == 0.0:
        return _out(np.ones_like(tt))
    return _out(np.exp(-delta * tt))


@overload
def discounted_integral(t0: float, t1: float, rate: float, level: float = 1.0) -> float: ...
@overload
def discounted_integral(
    t0: ArrayLike, t1: ArrayLike, rate: float, level: ArrayLike = 1.0
) -> float | FloatArray: ...
def discounted_integral(
    t0: ArrayLike, t1: ArrayLike, rate: float, level: ArrayLike = 1.0
) -> float | FloatArray:
    """Present value of a constant flow over ``[t0, t1]``.

    Computes ``integral_{t0}^{t1} level * exp(-delta * s) ds`` in closed form, with
    ``delta = ln(1 + rate)``:
    ``level * exp(-delta * t0) * (1 - exp(-delta * (t1 - t0))) / delta``.

    Parameters
    ----------
    t0, t1 : float or array_like
        Start and end of the interval in years (broadcast together). Where ``t1 <= t0`` the
        result is 0. ``t1 = inf`` gives the perpetuity value when ``rate > 0``.
    rate : float
        Annual effective discount rate ``r`` (``0.03`` for 3%). ``rate = 0`` gives the
        undiscounted value ``level * (t1 - t0)``.
    level : float or array_like, default 1.0
        Flow rate per year, e.g. EUR/year for costs or QALY weight (QALYs/year) for utilities.

    Returns
    -------
    float or numpy.ndarray
        Discounted total in the units of ``level`` times years (EUR or QALYs).
    """
    delta = continuous_rate(rate)
    a = np.asarray(t0, dtype=np.float64)
    b = np.asarray(t1, dtype=np.float64)
    lv = np.asarray(level, dtype=np.float64)
    # NaN bounds propagate; empty or reversed intervals contribute nothing.
    positive = ~(b <= a)
    length = np.where(positive, b - a, 0.0)
    if delta == 0.0:
        out = np.where(positive, lv * length, 0.0)
    else:
        # exp(-delta*t0) * (1 - exp(-delta*L)) / delta written as exp(-delta*t0) * L * g(x)
        # with x = delta*L and g(x) = (1 - exp(-x)) / x, accurate even for tiny delta*L.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            x = delta * length
            g = np.where(x > 0.0, -np.expm1(-x) / x, 1.0)
            annuity = np.where(np.isposinf(length), 1.0 / delta, length * g)
            out = np.where(positive, lv * np.exp(-delta * a) * annuity, 0.0)
    return _out(np.asarray(out, dtype=np.float64))


@overload
def discounted_point(t: float, rate: float, amount: float) -> float: ...
@overload
def discounted_point(t: ArrayLike, rate: float, amount: ArrayLike) -> float | FloatArray: ...
def discounted_point(t: ArrayLike, rate: float, amount: ArrayLike) -> float | FloatArray:
    """Present value of one-off amounts incurred at time ``t``.

    Parameters
    ----------
    t : float or array_like
        Time of the event in years.
    rate : float
        Annual effective discount rate ``r``; continuous equivalent ``ln(1 + r)`` is used.
    amount : float or array_like
        Undiscounted amount (EUR for one-off costs, QALYs for one-off QALY losses).

    Returns
    -------
    float or numpy.ndarray
        ``amount * (1 + rate) ** -t`` in the units of ``amount``.
    """
    factor = np.asarray(discount_factor(t, rate), dtype=np.float64)
    return _out(np.asarray(np.asarray(amount, dtype=np.float64) * factor, dtype=np.float64))


def discounted_polynomial_integral(
    t0: ArrayLike, t1: ArrayLike, rate: float, coefficients: ArrayLike
) -> FloatArray:
    """Present value over ``[t0, t1]`` of a flow ``p(t) = sum_k c_k t**k`` per year.

    Closed form: ``F(t1) - F(t0)`` with ``F(t) = -exp(-delta t) sum_j p^(j)(t) / delta**(j+1)``
    (``delta = ln(1 + rate)``), or the polynomial's antiderivative when ``rate = 0``.
    ``coefficients`` has the degree along its first axis (``c_0, c_1, ...``), each broadcasting
    against ``t0`` and ``t1``; empty or reversed intervals give 0, ``t1`` must be finite when
    ``rate = 0``.
    """
    delta = continuous_rate(rate)
    a = np.asarray(t0, dtype=np.float64)
    b = np.asarray(t1, dtype=np.float64)
    coef = [np.asarray(c, dtype=np.float64) for c in np.asarray(coefficients, dtype=np.float64)]
    b = np.where(b <= a, a, b)

    def poly(c: list[NDArray[np.float64]], t: FloatArray) -> FloatArray:
        return np.asarray(sum(ck * t**k for k, ck in enumerate(c)), dtype=np.float64)

    def derivative(c: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
        return [k * ck for k, ck in enumerate(c)][1:]

    if delta == 0.0:
        integral = [np.zeros_like(coef[0]), *(ck / (k + 1) for k, ck in enumerate(coef))]
        return np.asarray(poly(integral, b) - poly(integral, a), dtype=np.float64)

    def antiderivative(t: FloatArray) -> FloatArray:
        total, c, power = np.zeros(np.broadcast(t, coef[0]).shape), coef, delta
        with np.errstate(invalid="ignore", over="ignore"):
            while c:
                total = total + np.where(np.isposinf(t), 0.0, poly(c, t)) / power
                c, power = derivative(c), power * delta
            return np.where(np.isposinf(t), 0.0, -np.exp(-delta * t) * total)

    return np.asarray(antiderivative(b) - antiderivative(a), dtype=np.float64)
