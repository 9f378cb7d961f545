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
from cartsim.engine.mortality import death_years, smr_by_patient
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
    death_day = np.full(cohort.size, np.nan)
    if scenario.mortality is not None:
        to_years = 1.0 / DAYS_PER_YEAR
        remission_from = np.where(respond, response_day - cohort.arrival_day, np.inf) * to_years
        remission_to = np.where(respond, relapse_day - cohort.arrival_day, np.inf) * to_years
        years = death_years(
            scenario.mortality,
            cohort.age,
            cohort.female,
            cohort.draw("death"),
            [
                (remission_from, smr_by_patient(scenario, cohort, "active")),
                (remission_to, smr_by_patient(scenario, cohort, "remission")),
                (np.full(cohort.size, np.inf), smr_by_patient(scenario, cohort, "active")),
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
    }
