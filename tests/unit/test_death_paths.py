"""Death times found with every segment at once equal those of one segment at a time, bit for bit.

:func:`cartsim.engine.mortality.death_years` holds a small cohort's segments as arrays and finds
every death in one pass; a large cohort's are taken in turn. The two must pass Newton's method the
very same arguments (the dead and the skipped segments included, since every age of a row takes
part in its convergence), give the same ages, and a batched Newton call must give each row what a
call with that row alone gives. The standard-of-care switches drawn a block at a time equal those
drawn one at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cartsim.engine import mortality
from cartsim.engine.mortality import age_at_hazard, death_years
from cartsim.inputs.clinical import Gompertz, Mortality

MORTALITY = Mortality(
    female=Gompertz(a=2e-5, b=0.095), male=Gompertz(a=4e-5, b=0.09), max_age=100.0
)


def random_segments(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, ...]]:
    """SoC-like courses: increasing ends, many empty after a cut, NaN ends, big SMRs (early
    deaths, so the dead are carried through skipped segments), excess hazards in some."""
    count = int(rng.integers(3, 30))
    ends = np.cumsum(rng.exponential(rng.uniform(0.2, 8.0), (count, n)), axis=0)
    cut = rng.uniform(0.0, 30.0, n)
    ends = np.where(rng.random((count, 1)) < 0.5, np.fmin(ends, cut), ends)
    ends[rng.random((count, n)) < 0.02] = np.nan
    ends[:, rng.random(n) < 0.1] = 0.0  # some patients in no segment but the last
    ends[-1] = np.inf
    segments: list[tuple[np.ndarray, ...]] = []
    for k in range(count):
        smr = np.full(n, rng.choice([0.5, 1.0, 3.0, 400.0]))
        if rng.random() < 0.5:
            excess = np.where(rng.random(n) < 0.7, rng.choice([0.01, 0.2, 5.0]), 0.0)
            segments.append((ends[k], smr, excess))
        else:
            segments.append((ends[k], smr))
    return segments


def cohort(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(18.0, 90.0, n), rng.random(n) < 0.5, rng.random(n)


def recorded_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[np.ndarray, ...]]:
    """Every row given to Newton's method: (smr, age0, target, excess, needed) per row."""
    calls: list[tuple[np.ndarray, ...]] = []
    real = mortality.age_at_hazard

    def spy(a: Any, b: Any, smr: Any, age0: Any, target: Any, excess: Any, needed: Any) -> Any:
        rows = np.broadcast_arrays(smr, age0, target, excess, needed)
        for row in zip(*(np.atleast_2d(r) for r in rows), strict=True):
            calls.append(tuple(np.array(r) for r in row))
        return real(a, b, smr, age0, target, excess, needed)

    monkeypatch.setattr(mortality, "age_at_hazard", spy)
    return calls


@pytest.mark.parametrize("seed", range(12))
def test_at_once_passes_newton_what_in_turn_does(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    age, female, u = cohort(rng, n)
    segments = random_segments(rng, n)
    calls = recorded_calls(monkeypatch)
    at_once = death_years(MORTALITY, age, female, u, segments)
    batched = list(calls)
    calls.clear()
    monkeypatch.setattr(mortality, "MATRIX_VALUES", 0)  # one segment at a time
    in_turn = death_years(MORTALITY, age, female, u, segments)
    assert at_once.tobytes() == in_turn.tobytes()
    assert len(batched) == len(calls) and len(calls) >= 1
    for got, expected in zip(batched, calls, strict=True):
        for g, e in zip(got, expected, strict=True):
            assert g.tobytes() == e.tobytes()


def test_the_dead_stay_where_a_skipped_segment_left_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patient 0 dies in the first segment. Nobody lives in the second: the loop skips it.
    Patient 0 alone lives in the third: the loop computes it (patient 0 still counts as pending
    until a segment is computed) and moves patient 0 on to 3 years; patient 0 alone lives in the
    fourth too: skipped, patient 0 stays at 3. A death in the last passes patient 0 at 43."""
    n = 3
    age, female, u = np.full(n, 40.0), np.zeros(n, dtype=bool), np.array([0.9, 0.5, 0.6])
    excess = np.full(n, 0.01)
    segments = [
        (np.ones(n), np.array([1e5, 1.0, 1.0]), excess),
        (np.zeros(n), np.ones(n), excess),
        (np.array([3.0, 0.0, 0.0]), np.ones(n), excess),
        (np.array([6.0, 0.0, 0.0]), np.ones(n), excess),
        (np.full(n, np.inf), np.ones(n), 2 * excess),
    ]
    calls = recorded_calls(monkeypatch)
    death_years(MORTALITY, age, female, u, segments)
    batched = list(calls)
    calls.clear()
    monkeypatch.setattr(mortality, "MATRIX_VALUES", 0)
    death_years(MORTALITY, age, female, u, segments)
    assert [c[1][0] for c in calls] == [40.0, 43.0]  # age0 of patient 0 in each call
    assert len(batched) == len(calls)
    for got, expected in zip(batched, calls, strict=True):
        assert all(g.tobytes() == e.tobytes() for g, e in zip(got, expected, strict=True))


@pytest.mark.parametrize("seed", range(5))
def test_each_row_of_a_newton_call_is_the_call_of_that_row(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = 6, 80
    a, b = rng.uniform(1e-5, 5e-5, n), rng.uniform(0.07, 0.11, n)
    smr, age0 = rng.uniform(1, 4, (k, n)), rng.uniform(20, 80, (k, n))
    target = -np.log1p(-rng.random((k, n))) * rng.uniform(0.01, 2, (k, n))
    excess = np.where(rng.random((k, n)) < 0.3, rng.uniform(0.001, 3.0, (k, n)), 0.0)
    needed = rng.random((k, n)) < 0.2
    needed[0] = False  # a row that takes no step
    excess[1] = 0.0  # a row without an excess hazard
    together = age_at_hazard(a, b, smr, age0, target, excess, needed)
    for row in range(k):
        alone = age_at_hazard(a, b, smr[row], age0[row], target[row], excess[row], needed[row])
        assert together[row][needed[row]].tobytes() == alone[needed[row]].tobytes()


def newton_row_by_row(a, b, smr, age0, target, excess, needed, steps):  # type: ignore[no-untyped-def]
    """Newton's method written plainly, one row at a time: the reference of the batched steps
    (a row that takes no step keeps its starting age where it has an excess hazard)."""
    gompertz = np.log(np.exp(b * age0) + b * target / (smr * a)) / b
    if not (needed & (excess > 0)).any():
        return gompertz
    out = gompertz.copy()
    for r in range(len(gompertz)):
        with np.errstate(divide="ignore"):
            additive = np.where(excess[r] > 0, age0[r] + target[r] / excess[r], np.inf)
        x = np.minimum(gompertz[r], additive)
        smr_a = smr[r] * a
        for _ in range(steps if (needed[r] & (excess[r] > 0)).any() else 0):
            grows = np.exp(b * x)
            f = smr_a / b * (grows - np.exp(b * age0[r])) + excess[r] * (x - age0[r]) - target[r]
            step = f / (smr_a * grows + excess[r])
            x = x - step
            if np.all(np.abs(step) < 1e-12 * np.maximum(1.0, np.abs(x))):
                break
        out[r] = np.where(excess[r] > 0, x, gompertz[r])
    return out


@pytest.mark.parametrize("steps", [1, 2, 3, 5, mortality.NEWTON_STEPS])
@pytest.mark.parametrize("seed", range(4))
def test_batched_newton_steps_are_those_of_each_row_alone(
    seed: int, steps: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows stop as they converge (and where the steps run out) as they would alone."""
    rng = np.random.default_rng(100 + seed)
    k, n = 7, 50
    a, b = rng.uniform(1e-5, 5e-5, n), rng.uniform(0.07, 0.11, n)
    smr, age0 = rng.uniform(1, 4, (k, n)), rng.uniform(20, 80, (k, n))
    target = -np.log1p(-rng.random((k, n))) * rng.uniform(0.01, 2, (k, n)) ** rng.uniform(
        1, 4, (k, 1)
    )
    excess = np.where(rng.random((k, n)) < 0.5, rng.uniform(0.001, 3.0, (k, n)), 0.0)
    needed = rng.random((k, n)) < 0.6
    needed[2] = False  # a row that takes no step
    monkeypatch.setattr(mortality, "NEWTON_STEPS", steps)
    got = age_at_hazard(a, b, smr, age0, target, excess, needed)
    want = newton_row_by_row(a, b, smr, age0, target, excess, needed, steps)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_soc_switches_drawn_a_block_at_a_time_equal_one_at_a_time(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from builders import BASELINE

    from cartsim.engine.cohort import make_cohort
    from cartsim.engine.streams import Streams
    from cartsim.inputs import loading

    scenario = loading.load(BASELINE).build({})
    group = make_cohort(scenario, Streams(seed))
    start = group.arrival_day + np.random.default_rng(seed).uniform(0, 400, group.size)
    blocked = mortality.soc_switch_days(scenario, group, start, "post")
    monkeypatch.setattr(mortality, "MATRIX_VALUES", 0)
    single = mortality.soc_switch_days(scenario, group, start, "post")
    assert blocked.tobytes() == single.tobytes()
    assert blocked.shape == (group.size, 2 * mortality.SOC_CYCLES)
    assert np.all(np.diff(blocked, axis=1) >= 0)


def test_soc_sojourns_kept_for_the_next_arm_are_those_drawn_afresh() -> None:
    """A second start (another arm) on the same cohort reads the kept sojourns: the same
    switches as a fresh cohort; another course (rates) is not served the kept ones."""
    from builders import BASELINE

    from cartsim.engine.cohort import make_cohort
    from cartsim.engine.streams import Streams
    from cartsim.inputs import loading

    source = loading.load(BASELINE)
    scenario = source.build({})
    group = make_cohort(scenario, Streams(5))
    first = group.arrival_day + 30.0
    second = group.arrival_day + np.random.default_rng(5).uniform(0, 400, group.size)
    mortality.soc_switch_days(scenario, group, first, "pre")  # other uniforms: kept apart
    mortality.soc_switch_days(scenario, group, first, "post")  # keeps the sojourns
    kept = mortality.soc_switch_days(scenario, group, second, "post")
    fresh = mortality.soc_switch_days(scenario, make_cohort(scenario, Streams(5)), second, "post")
    assert kept.tobytes() == fresh.tobytes()
    faster = source.build(
        {"soc_flare_rate_sle": 2.0 * source.parameters["soc_flare_rate_sle"].value}
    )
    other = mortality.soc_switch_days(faster, group, second, "post")
    again = mortality.soc_switch_days(faster, make_cohort(faster, Streams(5)), second, "post")
    assert other.tobytes() == again.tobytes() and other.tobytes() != kept.tobytes()


def test_soc_segments_worked_out_a_block_at_a_time_equal_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from builders import BASELINE

    from cartsim.engine.cohort import make_cohort
    from cartsim.engine.streams import Streams
    from cartsim.inputs import loading

    scenario = loading.load(BASELINE).build({})
    group = make_cohort(scenario, Streams(4))
    switches = mortality.soc_switch_days(scenario, group, group.arrival_day, "pre")
    until = group.arrival_day + np.random.default_rng(4).uniform(0, 900, group.size)
    blocked = list(mortality.soc_segments(scenario, group, switches, until))
    monkeypatch.setattr(mortality, "MATRIX_VALUES", 0)
    single = list(mortality.soc_segments(scenario, group, switches, until))
    assert len(blocked) == len(single) == 2 * mortality.SOC_CYCLES + 1
    for got, expected in zip(blocked, single, strict=True):
        assert all(g.tobytes() == e.tobytes() for g, e in zip(got, expected, strict=True))
    assert np.array_equal(
        blocked[3][0], (np.fmin(switches[:, 3], until) - group.arrival_day) / 365.25
    )


def test_nobody_or_no_segment_gives_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty cohort (a demand of 0) and an empty list of segments: as one at a time."""
    empty = np.empty(0)
    assert death_years(MORTALITY, empty, empty.astype(bool), empty, []).size == 0
    assert death_years(MORTALITY, empty, empty.astype(bool), empty, [(empty, empty)]).size == 0
    age, female, u = np.array([40.0, 70.0]), np.array([True, False]), np.array([0.3, 0.9])
    np.testing.assert_array_equal(death_years(MORTALITY, age, female, u, []), 100.0 - age)
    monkeypatch.setattr(mortality, "MATRIX_VALUES", 0)
    np.testing.assert_array_equal(death_years(MORTALITY, age, female, u, []), 100.0 - age)
