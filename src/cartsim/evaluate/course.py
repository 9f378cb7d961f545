"""The clinical course after the treatment stage, sampled per patient, vectorised.

Every draw comes from a uniform shared by all arms (``response``, ``relapse``, ``death`` ...), so a
patient's outcome draws are the same in every arm: arms differ only through their probabilities.
Adverse-event grades were drawn before the simulation (:mod:`cartsim.engine.adverse_events`).
Deaths follow general-population Gompertz mortality times a standardised mortality ratio (SMR)
for the patient's state (active disease or remission, :mod:`cartsim.engine.mortality`), plus
treatment-related mortality (TRM). Times are days since day 0 unless named ``*_years``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import STATUSES
from cartsim.engine.mortality import (
    death_years,
    hazard_by_patient,
    soc_segments,
    soc_switch_days,
)
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.units import DAYS_PER_YEAR


def _per_disease(arm: Arm, cohort: Cohort, field: str, default: float) -> np.ndarray:
    values = [
        getattr(arm.outcomes[d], field) if d in arm.outcomes else default for d in cohort.diseases
    ]
    return np.asarray(values, dtype=float)[cohort.disease]


def relapse_years(hazard: np.ndarray, shape: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Years from response to relapse: Weibull with cumulative hazard ``(hazard*t)**shape``."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(hazard > 0, (-np.log1p(-u)) ** (1.0 / shape) / hazard, np.inf)


def clinical_course(
    scenario: Scenario, arm: Arm, cohort: Cohort, patients: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Outcome columns for one arm's patients (rows in patient order), vectorised.

    Adds ``response``, ``response_day``, ``relapse_day``, ``trm_death``, ``death_day`` (NaN when
    no mortality model), ``serious_infection``, ``ivig``, ``bcell_aplasia_days`` and
    ``secondary_malignancy``; all days since day 0, NaN where the event does not happen.
    """
    t_day = np.asarray(patients["treatment_day"], dtype=float)
    treated = ~np.isnan(t_day)
    respond = treated & (cohort.draw("response") < _per_disease(arm, cohort, "response", 0.0))
    response_day = np.where(
        respond, t_day + _per_disease(arm, cohort, "response_days", 0.0), np.nan
    )
    rel_years = relapse_years(
        _per_disease(arm, cohort, "relapse_hazard_per_year", 0.0),
        _per_disease(arm, cohort, "relapse_shape", 1.0),
        cohort.draw("relapse"),
    )
    with np.errstate(over="ignore"):
        relapse_day = np.where(respond, response_day + rel_years * DAYS_PER_YEAR, np.nan)
    trm = treated & (cohort.draw("trm") < _per_disease(arm, cohort, "trm", 0.0))
    trm_day = t_day + cohort.draw("trm_time") * _per_disease(arm, cohort, "trm_window_days", 1.0)
    pre = soc_switch_days(scenario, cohort, cohort.arrival_day, "pre")
    treat_or_inf = np.where(treated, t_day, np.inf)
    post_start = np.where(respond, relapse_day, treat_or_inf)
    post = soc_switch_days(scenario, cohort, post_start, "post")
    death_day = np.full(cohort.size, np.nan)
    if scenario.mortality is not None:
        active, remission = (
            hazard_by_patient(scenario, cohort, s) for s in ("active", "remission")
        )
        from_referral = lambda day: (day - cohort.arrival_day) / DAYS_PER_YEAR  # noqa: E731
        respond_or_treat = np.where(respond, response_day, treat_or_inf)
        years = death_years(
            scenario.mortality,
            cohort.age,
            cohort.female,
            cohort.draw("death"),
            [
                *soc_segments(scenario, cohort, pre, treat_or_inf),
                (from_referral(respond_or_treat), *active),
                (from_referral(post_start), *remission),
                *soc_segments(scenario, cohort, post, np.full(cohort.size, np.inf)),
            ],
        )
        death_day = cohort.arrival_day + years * DAYS_PER_YEAR
        # deaths while waiting were simulated: keep the simulated day
        exit_death = np.asarray(patients["status"]) == STATUSES.index("died_waiting")
        death_day = np.where(exit_death, np.asarray(patients["exit_day"], dtype=float), death_day)
    death_day = np.where(trm, np.fmin(death_day, trm_day), death_day)
    alive_at_response = np.isnan(death_day) | (response_day < death_day)
    respond &= alive_at_response
    response_day = np.where(respond, response_day, np.nan)
    relapse_day = np.where(
        respond & np.isfinite(relapse_day) & (np.isnan(death_day) | (relapse_day < death_day)),
        relapse_day,
        np.nan,
    )
    ae = arm.adverse_events
    aplasia = to_dist(ae.bcell_aplasia_days).ppf(cohort.draw("bcell_aplasia"))
    return {
        "response": respond,
        "response_day": response_day,
        "relapse_day": relapse_day,
        "trm_death": trm & (death_day == trm_day),
        "death_day": death_day,
        "serious_infection": treated & (cohort.draw("serious_infection") < ae.serious_infection),
        "ivig": treated & (cohort.draw("ivig") < ae.ivig),
        "bcell_aplasia_days": np.where(treated, aplasia, np.nan),
        "secondary_malignancy": treated
        & (cohort.draw("secondary_malignancy") < ae.secondary_malignancy),
        **state_path(pre, post, t_day, response_day, relapse_day),
    }


def state_path(
    pre: np.ndarray,
    post: np.ndarray,
    treatment_day: np.ndarray,
    response_day: np.ndarray,
    relapse_day: np.ndarray,
) -> dict[str, np.ndarray]:
    """The disease states from referral on, as 2-D columns (one row per patient):
    ``_state_end`` (day each segment ends, in order; NaN: none) and ``_remission`` (whether the
    segment is remission, else active disease). Standard-of-care course ``pre`` until the
    treatment; active from treatment to response, remission to relapse, then the standard-of-care
    course ``post`` (from the treatment for non-responders)."""
    treated = np.isfinite(treatment_day)
    inf = np.full(treated.size, np.inf)
    cut = np.where(treated, treatment_day, inf)
    respond_or_treat = np.where(np.isfinite(response_day), response_day, cut)
    relapse = np.where(np.isnan(relapse_day), inf, relapse_day)
    relapse = np.where(np.isfinite(response_day), relapse, respond_or_treat)
    ends = [
        *np.fmin(pre, cut[:, None]).T,
        cut,
        respond_or_treat,
        relapse,
        *np.fmax(post, relapse[:, None]).T,
        inf,
    ]
    remission = [j % 2 == 1 for j in range(pre.shape[1])] + [False, False, True]
    remission += [j % 2 == 1 for j in range(post.shape[1])] + [False]
    n = treated.size
    return {
        "_state_end": np.column_stack(ends),
        "_remission": np.tile(np.asarray(remission), (n, 1)),
    }
