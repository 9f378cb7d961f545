"""The disease states of a patient treated a second time after a relapse."""

from __future__ import annotations

import numpy as np

from cartsim.engine.relapse import Effect, Second
from cartsim.evaluate.course import state_path

NEVER = np.full((1, 4), np.inf)  # no standard-of-care switches


def remission_days(columns: dict[str, np.ndarray], until: float) -> tuple[float, float]:
    """Days in remission and in active disease from day 0 to ``until``."""
    ends = np.minimum(columns["_state_end"][0], until)
    starts = np.concatenate([[0.0], ends[:-1]])
    length = np.maximum(ends - starts, 0.0)
    remission = columns["_remission"][0]
    return float(length[remission].sum()), float(length[~remission].sum())


def second(day: float) -> Second:
    nothing = np.array([np.nan])
    effect = Effect(nothing, np.array([True]), np.array([True]), nothing, nothing,
                    np.array([False]), nothing)  # fmt: skip
    return Second(np.array([day]), effect, NEVER)


def test_second_remission_follows_the_second_treatment() -> None:
    day = lambda x: np.array([float(x)])  # noqa: E731
    columns = state_path(
        NEVER, NEVER, day(10), day(40), day(100), (second(150), day(180), day(300))
    )
    assert remission_days(columns, 1000) == (60 + 120, 1000 - 180)
    assert remission_days(columns, 170) == (60, 110)


def test_no_second_treatment_is_the_one_treatment_path() -> None:
    day = lambda x: np.array([float(x)])  # noqa: E731
    one = state_path(NEVER, NEVER, day(10), day(40), day(100))
    two = state_path(NEVER, NEVER, day(10), day(40), day(100), (second(np.inf), day(np.nan),
                                                                 day(np.nan)))  # fmt: skip
    for until in (30, 70, 500):
        assert remission_days(one, until) == remission_days(two, until)


def test_a_second_treatment_without_response_stays_active() -> None:
    day = lambda x: np.array([float(x)])  # noqa: E731
    columns = state_path(
        NEVER, NEVER, day(10), day(40), day(100), (second(150), day(np.nan), day(np.nan))
    )
    assert remission_days(columns, 1000) == (60, 940)
