"""Death times: general-population Gompertz mortality times an SMR for the patient's state, plus
an optional excess (additive) hazard per year for that state.

Used before the simulation (the day a waiting patient would die) and after it (the clinical
course), with the same per-patient uniform ``death``, so waiting costs life. On standard of care
(waiting, untreated, not responding, after a relapse) the disease remits and flares at the yearly
rates of its ``disease_course`` (:func:`soc_switch_days`). Ages and times are in years unless
named ``*_days``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import partial

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.inputs.clinical import Mortality
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.units import DAYS_PER_YEAR


def gompertz_parameters(mortality: Mortality, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient Gompertz ``a`` (per year) and ``b`` (per year of age)."""
    a = np.where(female, mortality.female.a, mortality.male.a)
    b = np.where(female, mortality.female.b, mortality.male.b)
    return a, b


def cumulative_hazard(
    a: np.ndarray,
    b: np.ndarray,
    smr: np.ndarray,
    age0: np.ndarray,
    age1: np.ndarray,
    excess: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Cumulative hazard between two ages:
    ``smr * a/b * (exp(b*age1) - exp(b*age0)) + excess * (age1 - age0)``."""
    return smr * a / b * (np.exp(b * age1) - np.exp(b * age0)) + excess * (age1 - age0)


NEWTON_STEPS = 60  # Newton steps for the age with an excess hazard (converges in far fewer)


def age_at_hazard(
    a: np.ndarray,
    b: np.ndarray,
    smr: np.ndarray,
    age0: np.ndarray,
    target: np.ndarray,
    excess: np.ndarray | float = 0.0,
    needed: np.ndarray | None = None,
) -> np.ndarray:
    """The age at which the cumulative hazard from ``age0`` reaches ``target``.

    Closed form without an excess hazard; with one, Newton's method from an age at or beyond
    the root (the cumulative hazard is increasing and convex, so the steps fall monotonically
    onto it). Only the ages where ``needed`` (default: all) are meaningful: when none of them
    has an excess hazard, no Newton step is taken. Each row of 2-D arguments (patients along
    the last axis) is a problem of its own: its steps stop when its own ages have converged,
    as in a call with that row alone.
    """
    gompertz = np.log(np.exp(b * age0) + b * target / (smr * a)) / b
    excess = np.broadcast_to(np.asarray(excess, dtype=float), np.shape(gompertz))
    has_excess = excess > 0
    wanted = has_excess if needed is None else has_excess & needed
    (active,) = np.nonzero(np.atleast_2d(wanted).any(axis=-1))  # rows that take steps
    if not active.size:
        return gompertz
    with np.errstate(divide="ignore"):
        additive = np.where(has_excess, age0 + target / excess, np.inf)
    # cumulative_hazard(a, b, smr, age0, x, excess) - target, its terms computed once
    shape = np.shape(gompertz)
    x = np.atleast_2d(np.minimum(gompertz, additive))
    smr_a = np.broadcast_to(smr * a, shape)
    terms = [np.atleast_2d(np.broadcast_to(t, shape)) for t in (b, smr_a, age0, target, excess)]
    terms += [np.atleast_2d(np.broadcast_to(smr_a / b, shape)), np.atleast_2d(np.exp(b * age0))]
    if active.size != len(x):
        terms = [t[active] for t in terms]
    xs = x[active]  # the rows still stepping, and their terms: taken again only as rows stop
    for _ in range(NEWTON_STEPS):
        b_, smr_a_, age0_, target_, excess_, scale, start = terms
        grows = np.exp(b_ * xs)
        f = scale * (grows - start) + excess_ * (xs - age0_) - target_
        step = f / (smr_a_ * grows + excess_)
        xs = xs - step
        converged = np.all(np.abs(step) < 1e-12 * np.maximum(1.0, np.abs(xs)), axis=-1)
        if converged.any():
            x[active[converged]] = xs[converged]
            going = ~converged
            active, xs = active[going], xs[going]
            if not active.size:
                break
            terms = [t[going] for t in terms]
    else:
        x[active] = xs  # out of steps: where they got to
    return np.where(has_excess, x.reshape(shape), gompertz)


Segment = tuple[np.ndarray, ...]  # (end_years, smr) or (end_years, smr, excess_per_year)


MATRIX_VALUES = 1 << 16  # segments × patients held at once to find every death in one pass


def death_years(
    mortality: Mortality,
    age: np.ndarray,
    female: np.ndarray,
    u: np.ndarray,
    segments: Iterable[Segment],
) -> np.ndarray:
    """Years from referral to death under piecewise-constant SMRs and excess hazards.

    ``segments`` lists ``(end_years, smr)`` or ``(end_years, smr, excess_per_year)`` in order;
    the last segment should end at infinity. Death is capped at ``mortality.max_age``.

    A small cohort's segments are held as arrays (segments × patients, up to
    :data:`MATRIX_VALUES` values) and every patient's dying segment found in one pass
    (:func:`_deaths_at_once`); a large cohort's are taken one at a time (memory of one segment,
    not of all). Both give the same bits.
    """
    a, b = gompertz_parameters(mortality, female)
    remaining = -np.log1p(-u)
    segments = iter(segments)
    limit = max(1, MATRIX_VALUES // max(age.size, 1))
    head = list(itertools.islice(segments, limit + 1))
    if len(head) <= limit:  # all of them
        out = _deaths_at_once(mortality, age, a, b, remaining, head)
    else:
        out = _deaths_in_turn(mortality, age, a, b, remaining, itertools.chain(head, segments))
    return np.where(
        np.isnan(out), mortality.max_age - age, np.minimum(out, mortality.max_age - age)
    )


def _deaths_in_turn(
    mortality: Mortality,
    age: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    remaining: np.ndarray,
    segments: Iterable[Segment],
) -> np.ndarray:
    """Years to death within the segments (NaN: after them), one segment at a time."""
    out = np.full(age.size, np.nan)
    start = np.zeros(age.size)
    pending = np.ones(age.size, dtype=bool)
    for segment in segments:
        end, smr = segment[0], segment[1]
        cap_end = np.minimum(end, mortality.max_age - age)
        if not np.any(pending & ~(cap_end <= start)):  # NaN ends are computed, as before
            continue  # nobody alive lives in it: no hazard, nothing moves (as computing it)
        excess = segment[2] if len(segment) > 2 else np.zeros(age.size)
        pending = np.isnan(out)
        h = cumulative_hazard(a, b, smr, age + start, age + np.maximum(cap_end, start), excess)
        dies_here = pending & (remaining < h)
        if dies_here.any():
            at = age_at_hazard(a, b, smr, age + start, remaining, excess, dies_here)
            out[dies_here] = at[dies_here] - age[dies_here]
        remaining = np.where(pending & ~dies_here, remaining - h, remaining)
        start = np.maximum(start, cap_end)
    return out


def _deaths_at_once(
    mortality: Mortality,
    age: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    remaining: np.ndarray,
    segments: list[Segment],
) -> np.ndarray:
    """:func:`_deaths_in_turn` with the segments stacked (rows: segments): the hazard of every
    segment, what is left of each patient's before it (a running difference, as the loop
    subtracts) and the first segment whose hazard exceeds it, at once; then the age of death
    in every segment where someone dies, in one call, a row each with the very arguments the
    loop passes (Newton steps run over every patient of a row until the row converges). The
    root lies in its segment, so every age found is a number (the loop would go on after NaN)."""
    n, count = age.size, len(segments)
    if n == 0 or count == 0:
        return np.full(n, np.nan)  # nobody, or no segment to die in
    rows = np.empty((3, count, n))
    for k, segment in enumerate(segments):
        rows[0, k], rows[1, k] = segment[0], segment[1]
        rows[2, k] = segment[2] if len(segment) > 2 else 0.0
    end, smr, excess = rows
    cap_end = np.minimum(end, mortality.max_age - age)
    start = np.maximum.accumulate(np.vstack([np.zeros((1, n)), cap_end]), axis=0)[:-1]
    h = cumulative_hazard(a, b, smr, age + start, age + np.maximum(cap_end, start), excess)
    left = np.subtract.accumulate(np.vstack([remaining[None, :], h]), axis=0)[:-1]
    dies = left < h
    first = np.where(dies.any(axis=0), dies.argmax(axis=0), count)  # count: after them all
    # The loop skips a segment nobody it still counts as pending lives in (it counts a patient
    # pending until the next segment it does not skip); the dead do not move on in it.
    reach = np.where(~(cap_end <= start), first, -1).max(axis=1)
    skipped, last = np.zeros(count, dtype=bool), 0
    for k in range(count):
        skipped[k] = reach[k] < last
        last = last if skipped[k] else k
    if skipped.any():
        moved = np.where(skipped[:, None], -np.inf, cap_end)
        start = np.maximum.accumulate(np.vstack([np.zeros((1, n)), moved]), axis=0)[:-1]
    out = np.full(n, np.nan)
    (dying,) = np.nonzero(first < count)
    if not dying.size:
        return out
    ks = np.unique(first[dying])  # each a row of its own: as many Newton steps as alone
    target = left[np.minimum(first, ks[:, None]), np.arange(n)]  # the dead keep what was left
    here = first == ks[:, None]
    at = age_at_hazard(a, b, smr[ks], age + start[ks], target, excess[ks], here)
    out[dying] = at[np.searchsorted(ks, first[dying]), dying] - age[dying]
    return out


def smr_by_patient(scenario: Scenario, cohort: Cohort, state: str) -> np.ndarray:
    """The SMR of each patient's disease in ``state`` (``active`` or ``remission``)."""
    values = [getattr(scenario.disease_course[d], f"smr_{state}") for d in cohort.diseases]
    return np.asarray(values, dtype=float)[cohort.disease]


def excess_by_patient(scenario: Scenario, cohort: Cohort, state: str) -> np.ndarray:
    """The excess hazard per year of each patient's disease in ``state`` (0 if none given)."""
    values = [
        getattr(scenario.disease_course[d], f"excess_hazard_{state}_per_year")
        for d in cohort.diseases
    ]
    return np.asarray(values, dtype=float)[cohort.disease]


def hazard_by_patient(scenario: Scenario, cohort: Cohort, state: str) -> tuple[np.ndarray, ...]:
    """``(smr, excess_per_year)`` of each patient's disease in ``state``: a segment's tail."""
    return smr_by_patient(scenario, cohort, state), excess_by_patient(scenario, cohort, state)


SOC_CYCLES = 12  # remission-flare cycles drawn on standard of care (more are vanishingly rare)


def soc_switch_days_from_referral(scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """:func:`soc_switch_days` from referral (``pre``): the same for every arm of a replication,
    so computed once per cohort (for a given standard-of-care course)."""
    return cohort.remember(
        ("soc_pre", soc_rates(scenario, cohort)),
        lambda: soc_switch_days(scenario, cohort, cohort.arrival_day, "pre"),
    )


def soc_rates(scenario: Scenario, cohort: Cohort) -> tuple[tuple[float, float] | None, ...]:
    """Per disease, the standard-of-care ``(remission_prob_per_year, relapse_hazard_per_year)``
    (None: no course): what the switch days depend on besides the uniforms."""
    course = [scenario.disease_course.get(d) for d in cohort.diseases]
    return tuple((c.remission_prob_per_year, c.relapse_hazard_per_year) if c else None
                 for c in course)  # fmt: skip


def soc_switch_days(scenario: Scenario, cohort: Cohort, start: np.ndarray, tag: str) -> np.ndarray:
    """Days (from day 0) the standard-of-care course switches state, from ``start`` in active
    disease: column ``2k`` is when the ``k``-th remission starts, ``2k+1`` when it ends in a flare.

    Exponential sojourns: remission hazard ``-ln(1 - remission_prob_per_year)``, flare hazard
    ``relapse_hazard_per_year``; ``inf`` where a rate is 0. Uniforms ``soc_{tag}_*`` are shared
    by all arms (common random numbers), and so are the sojourns of a small cohort (kept for
    the next arm: only ``start`` differs between arms).
    """
    out = np.empty((cohort.size, 2 * SOC_CYCLES))
    t = np.asarray(start, dtype=float)
    step = max(1, MATRIX_VALUES // max(cohort.size, 1))  # switches drawn at once
    for first in range(0, 2 * SOC_CYCLES, step):
        js = range(first, min(first + step, 2 * SOC_CYCLES))
        if len(js) == 2 * SOC_CYCLES:  # all at once: the same for every arm
            key = ("soc_sojourns", tag, soc_rates(scenario, cohort))
            days = cohort.remember(key, partial(soc_sojourn_days, scenario, cohort, tag, js))
        else:
            days = soc_sojourn_days(scenario, cohort, tag, js)
        # each switch the sojourn after the one before: a running sum, added in order
        switches = np.add.accumulate(np.vstack([t, days]), axis=0)[1:]
        out[:, first : first + len(js)] = switches.T
        t = switches[-1]
    return out


def soc_sojourn_days(scenario: Scenario, cohort: Cohort, tag: str, js: range) -> np.ndarray:
    """Days spent in standard-of-care state ``j`` for each ``j`` of ``js`` (a row each; even
    ``j``: active disease until remission, odd: remission until a flare)."""
    course = [scenario.disease_course.get(d) for d in cohort.diseases]
    p_remit = np.asarray([c.remission_prob_per_year if c else 0.0 for c in course])
    flare = np.asarray([c.relapse_hazard_per_year if c else 0.0 for c in course])
    p_remit, flare = p_remit[cohort.disease], flare[cohort.disease]
    remit = -np.log1p(-np.minimum(p_remit, 1.0 - 1e-12))
    cohort.prefetch([f"soc_{tag}_{j}" for j in js])
    rate = np.vstack([flare if j % 2 else remit for j in js])  # the rate out of state j
    u = np.vstack([cohort.draw(f"soc_{tag}_{j}") for j in js])
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.where(rate > 0, -np.log1p(-u) / np.where(rate > 0, rate, 1.0), np.inf)
    return years * DAYS_PER_YEAR


def soc_segments(
    scenario: Scenario, cohort: Cohort, switches: np.ndarray, until: np.ndarray
) -> Iterator[Segment]:
    """``(end_years, smr, excess_per_year)`` segments (years from referral) of a
    standard-of-care course whose switch days are ``switches``, cut at day ``until``; for
    :func:`death_years`, one segment at a time (memory of one column, not of all)."""
    state = (
        hazard_by_patient(scenario, cohort, "active"),
        hazard_by_patient(scenario, cohort, "remission"),
    )
    step = max(1, MATRIX_VALUES // max(cohort.size, 1))  # segments' ends worked out at once
    for first in range(0, switches.shape[1], step):
        block = switches[:, first : first + step]
        ends = (np.fmin(block, until[:, None]) - cohort.arrival_day[:, None]) / DAYS_PER_YEAR
        for j in range(block.shape[1]):
            yield (ends[:, j], *state[(first + j) % 2])
    yield ((until - cohort.arrival_day) / DAYS_PER_YEAR, *state[0])


def waiting_death_days(scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """Days from referral to death on standard of care (deaths while waiting)."""
    assert scenario.mortality is not None
    switches = soc_switch_days_from_referral(scenario, cohort)
    years = death_years(
        scenario.mortality,
        cohort.age,
        cohort.female,
        cohort.draw("death"),
        soc_segments(scenario, cohort, switches, np.full(cohort.size, np.inf)),
    )
    return years * DAYS_PER_YEAR
