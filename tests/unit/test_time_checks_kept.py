"""A distribution's time check is kept by the spec's values: the same verdict every time, and
its own for each kind of time (a stage's days, an age in years)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from cartsim.inputs.distributions import DistSpec
from cartsim.inputs.fields import AgeYears, StageDays, _time_problem

STAGE, AGE = TypeAdapter(StageDays), TypeAdapter(AgeYears)


def refusal(adapter: TypeAdapter, spec: dict) -> str | None:  # type: ignore[type-arg]
    try:
        adapter.validate_python(spec)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


def test_a_kept_refusal_is_refused_again_with_the_same_words() -> None:
    spec = {"dist": "normal", "mean": 2.0, "sd": 3.0}  # about a quarter below 0
    first, again = refusal(STAGE, spec), refusal(STAGE, spec)
    assert first is not None and "cannot be negative" in first
    assert again == first


def test_the_same_spec_is_checked_for_each_kind_of_time() -> None:
    spec = {"dist": "normal", "mean": 100.0, "sd": 30.0, "low": 0.0}
    assert refusal(STAGE, spec) is None  # a stage of about 100 days
    assert "above the maximum of 120 years" in str(refusal(AGE, spec))  # ages to 200: no
    assert refusal(STAGE, spec) is None  # and still fine as days


def test_a_spec_that_cannot_be_kept_is_checked_every_time() -> None:
    spec = {"dist": "empirical", "values": [-1.0, 2.0, 3.0]}  # a list: not a key
    for _ in range(2):
        assert "cannot be negative" in str(refusal(STAGE, spec))
    assert refusal(STAGE, {"dist": "empirical", "values": [1.0, 2.0]}) is None


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "lognormal", "mean": 10.0, "sd": 4.0},
        {"dist": "triangular", "low": -1.0, "mode": 1.0, "high": 2.0},
        {"dist": "uniform", "low": 0.0, "high": 5000.0},
        {"dist": "gamma", "mean": 4000.0, "sd": 10.0},
    ],
)
def test_the_kept_verdict_is_the_one_worked_out(spec: dict) -> None:  # type: ignore[type-arg]
    dist = TypeAdapter(DistSpec).validate_python(spec)
    for limit, unit, whole in ((3650.0, "days", False), (120.0, "years", True)):
        _time_problem(dist, limit, unit, whole)  # worked out, or kept from before
        hits = _time_problem.cache_info().hits
        kept = _time_problem(dist, limit, unit, whole)
        assert _time_problem.cache_info().hits == hits + 1  # served from what was kept
        assert kept == _time_problem.__wrapped__(dist, limit, unit, whole)


def test_a_time_may_reach_its_maximum_but_not_pass_it() -> None:
    """The bounds are inclusive: a mean of exactly 3,650 days, ages up to exactly 120 years."""
    assert refusal(STAGE, {"dist": "fixed", "value": 3650.0}) is None
    assert "exceeds the maximum" in str(refusal(STAGE, {"dist": "fixed", "value": 3650.5}))
    capped = {"dist": "normal", "mean": 110.0, "sd": 20.0, "low": 0.0, "high": 120.0}
    assert refusal(AGE, capped) is None  # its top draw is 120 itself
    assert "above the maximum" in str(refusal(AGE, {**capped, "high": 120.5}))
