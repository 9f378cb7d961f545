"""Response, relapse and death after a treatment, from per-patient uniforms, vectorised.

Used by the engine at the treatment event (whether and when the patient relapses alive, to refer
them again) and by the clinical course after the simulation: one function, so both agree. A
second treatment after a relapse (``Second``) draws its own uniforms (a cohort view with the
prefix ``retreat.``). Times are days since day 0 unless named ``*_years``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.engine.mortality import (
    Segment,
    death_years,
    hazard_by_patient,
    soc_segments,
    soc_switch_days,
    soc_switch_days_from_referral,
)
from cartsim.inputs.clinical import Relapse
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.units import DAYS_PER_YEAR


def per_disease(arm: Arm, cohort: Cohort, field: str, default: float) -> np.ndarray:
    """``arm.outcomes[disease].field`` per patient (``default`` for a disease not listed)."""
    values = [
        getattr(arm.outcomes[d], field) if d in arm.outcomes else default for d in cohort.diseases
    ]
    return np.asarray(values, dtype=float)[cohort.disease]


def weibull_years(hazard: np.ndarray, shape: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Years to relapse of a Weibull with cumulative hazard ``(hazard*t)**shape`` at uniform u."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(hazard > 0, (-np.log1p(-u)) ** (1.0 / shape) / hazard, np.inf)


def relapse_years(models: list[Relapse | None], disease: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Years from response to relapse per patient (``models`` per disease code; None: never).

    Mixture cure inverts ``P(T <= t) = (1 - cure) * (1 - exp(-(hazard*t)**shape))``: a uniform at
    or above ``1 - cure`` never relapses, one below is rescaled onto the Weibull. With no cured
    share this is the Weibull draw itself, so the models stay in step (common random numbers).
    """
    none = Relapse(model="constant", hazard_per_year=0.0)
    chosen = [m or none for m in models]
    hazard = np.asarray([m.hazard_per_year for m in chosen])[disease]
    shape = np.asarray([m.shape for m in chosen])[disease]
    cure = np.asarray([m.cure_fraction for m in chosen])[disease]
    relapsing = u < 1.0 - cure
    scaled = np.where(relapsing, u / np.where(cure < 1.0, 1.0 - cure, 1.0), 0.0)
    return np.where(relapsing, weibull_years(hazard, shape, scaled), np.inf)


@dataclass
class Effect:
    """What one treatment does: response, its day, relapse day (before death is known), TRM."""

    treatment_day: np.ndarray  # NaN: not treated
    treated: np.ndarray
    response: np.ndarray
    response_day: np.ndarray
    relapse_day: np.ndarray
    trm: np.ndarray
    trm_day: np.ndarray


def treatment_effect(
    arm: Arm, cohort: Cohort, treatment_day: np.ndarray, response: np.ndarray | None = None
) -> Effect:
    """Response (probability ``response`` per patient, else the arm's), relapse and TRM draws."""
    t_day = np.asarray(treatment_day, dtype=float)
    treated = np.isfinite(t_day)
    p = per_disease(arm, cohort, "response", 0.0) if response is None else response
    respond = treated & (cohort.draw("response") < p)
    response_day = np.where(respond, t_day + per_disease(arm, cohort, "response_days", 0.0), np.nan)
    models = [arm.outcomes[d].relapse_model if d in arm.outcomes else None for d in cohort.diseases]
    years = relapse_years(models, cohort.disease, cohort.draw("relapse"))
    with np.errstate(over="ignore", invalid="ignore"):
        relapse_day = np.where(respond, response_day + years * DAYS_PER_YEAR, np.nan)
    trm = treated & (cohort.draw("trm") < per_disease(arm, cohort, "trm", 0.0))
    trm_day = t_day + cohort.draw("trm_time") * per_disease(arm, cohort, "trm_window_days", 1.0)
    return Effect(t_day, treated, respond, response_day, relapse_day, trm, trm_day)


@dataclass
class Second:
    """A second treatment after relapse: its day (inf: none) and effect, and the switch days of
    the standard-of-care course after it."""

    treatment_day: np.ndarray
    effect: Effect
    post: np.ndarray


def outcome(
    scenario: Scenario,
    effect: Effect,
    cohort: Cohort,
    died_waiting_day: np.ndarray,
    second: Second | None = None,
) -> dict[str, np.ndarray]:
    """Response, relapse and death per patient after the first treatment (and a second one).

    Returns ``response``, ``response_day``, ``relapse_day`` (NaN unless it happens alive),
    ``death_day`` (NaN with no mortality model), ``trm_death`` and the standard-of-care switch
    days ``_pre`` and ``_post``; with ``second``, ``response2``, ``response_day2``,
    ``relapse_day2`` and ``trm_death2`` too. Deaths follow the SMR of each state lived: standard
    of care until the treatment, active to response, remission to relapse, standard of care (until
    the second treatment, then active, remission and standard of care again).
    """
    n = cohort.size
    inf = np.full(n, np.inf)
    t1 = np.where(effect.treated, effect.treatment_day, inf)
    pre = soc_switch_days_from_referral(scenario, cohort)
    post_start = np.where(effect.response, effect.relapse_day, t1)
    post = soc_switch_days(scenario, cohort, post_start, "post")
    t2 = inf if second is None else second.treatment_day
    death_day = np.full(n, np.nan)
    if scenario.mortality is not None:
        active, remission = (
            hazard_by_patient(scenario, cohort, s) for s in ("active", "remission")
        )

        def years(day: np.ndarray) -> np.ndarray:
            return (day - cohort.arrival_day) / DAYS_PER_YEAR

        respond_or_treat = np.where(effect.response, effect.response_day, t1)

        def segments() -> Iterator[Segment]:  # one at a time: memory of one, not of all
            yield from soc_segments(scenario, cohort, pre, t1)
            yield (years(respond_or_treat), *active)
            yield (years(post_start), *remission)
            yield from soc_segments(scenario, cohort, post, t2)
            if second is not None:
                e2 = second.effect
                yield (years(np.where(e2.response, e2.response_day, t2)), *active)
                yield (years(np.where(e2.response, e2.relapse_day, t2)), *remission)
                yield from soc_segments(scenario, cohort, second.post, inf)

        death_years_ = death_years(
            scenario.mortality, cohort.age, cohort.female, cohort.draw("death"), segments()
        )
        death_day = cohort.arrival_day + death_years_ * DAYS_PER_YEAR
        # deaths while waiting were simulated: keep the simulated day
        death_day = np.where(np.isnan(died_waiting_day), death_day, died_waiting_day)
    death_day = np.where(effect.trm, np.fmin(death_day, effect.trm_day), death_day)
    out = {"trm_death": effect.trm & (death_day == effect.trm_day)}
    if second is not None:
        e2 = second.effect
        death_day = np.where(e2.trm, np.fmin(death_day, e2.trm_day), death_day)
        out["trm_death"] = out["trm_death"] & (death_day == effect.trm_day)
        out["trm_death2"] = e2.trm & (death_day == e2.trm_day) & ~out["trm_death"]
        out.update(_alive(e2, death_day, "2"))
    out.update(_alive(effect, death_day, ""))
    return {**out, "death_day": death_day, "_pre": pre, "_post": post}


def _alive(effect: Effect, death_day: np.ndarray, suffix: str) -> dict[str, np.ndarray]:
    """Response and relapse only where the patient is alive when they happen."""
    alive = np.isnan(death_day) | (effect.response_day < death_day)
    respond = effect.response & alive
    relapse = effect.relapse_day
    lives = respond & np.isfinite(relapse) & (np.isnan(death_day) | (relapse < death_day))
    return {
        f"response{suffix}": respond,
        f"response_day{suffix}": np.where(respond, effect.response_day, np.nan),
        f"relapse_day{suffix}": np.where(lives, relapse, np.nan),
    }
