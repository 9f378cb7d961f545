"""The clinical course around the treatment stage, sampled per patient, vectorised.

Every draw comes from a uniform shared by all arms (``crs_grade``, ``response``, ``relapse``,
``death`` …), so a patient's outcome draws are the same in every arm: arms differ only through
their probabilities. Adverse-event grades are drawn before the simulation so that they drive the
inpatient stay and ICU escalation. Deaths follow general-population Gompertz mortality times a
standardised mortality ratio (SMR) for the patient's state (active disease or remission), plus
treatment-related mortality (TRM). Times are days since day 0 unless named ``*_years``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import STATUSES
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.scenario import Arm, GradeRisks, Mortality, Scenario
from cartsim.inputs.units import DAYS_PER_YEAR


def grades(risks: GradeRisks, u: np.ndarray) -> np.ndarray:
    """Grade 0-4 per patient: how many of the cumulative risks the uniform ``u`` falls below."""
    out = np.zeros(u.size, dtype=np.int8)
    for p in risks.cumulative():
        out += u < p
    return out


def adverse_event_grades(arm: Arm, cohort: Cohort) -> dict[str, np.ndarray]:
    """CRS and ICANS grade (0-4) per patient for this arm."""
    ae = arm.adverse_events
    return {
        "crs": grades(ae.crs, cohort.draw("crs_grade")),
        "icans": grades(ae.icans, cohort.draw("icans_grade")),
    }


def gompertz_parameters(mortality: Mortality, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient Gompertz ``a`` (per year) and ``b`` (per year of age)."""
    a = np.where(female, mortality.female.a, mortality.male.a)
    b = np.where(female, mortality.female.b, mortality.male.b)
    return a, b


def cumulative_hazard(
    a: np.ndarray, b: np.ndarray, smr: np.ndarray, age0: np.ndarray, age1: np.ndarray
) -> np.ndarray:
    """Cumulative hazard between two ages: ``smr * a/b * (exp(b*age1) - exp(b*age0))``."""
    return smr * a / b * (np.exp(b * age1) - np.exp(b * age0))


def age_at_hazard(
    a: np.ndarray, b: np.ndarray, smr: np.ndarray, age0: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """The age at which the cumulative hazard from ``age0`` reaches ``target``."""
    return np.log(np.exp(b * age0) + b * target / (smr * a)) / b


def death_years(
    mortality: Mortality,
    age: np.ndarray,
    female: np.ndarray,
    u: np.ndarray,
    segments: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Years from referral to death under piecewise-constant SMRs.

    ``segments`` lists ``(end_years, smr)`` in order; the last segment should end at infinity.
    Death is capped at ``mortality.max_age``.
    """
    a, b = gompertz_parameters(mortality, female)
    remaining = -np.log1p(-u)
    out = np.full(age.size, np.nan)
    start = np.zeros(age.size)
    for end, smr in segments:
        cap_end = np.minimum(end, mortality.max_age - age)
        pending = np.isnan(out)
        h = cumulative_hazard(a, b, smr, age + start, age + np.maximum(cap_end, start))
        dies_here = pending & (remaining < h)
        if dies_here.any():
            at = age_at_hazard(a, b, smr, age + start, remaining)
            out[dies_here] = at[dies_here] - age[dies_here]
        remaining = np.where(pending & ~dies_here, remaining - h, remaining)
        start = np.maximum(start, cap_end)
    return np.where(
        np.isnan(out), mortality.max_age - age, np.minimum(out, mortality.max_age - age)
    )


def smr_by_patient(scenario: Scenario, cohort: Cohort, state: str) -> np.ndarray:
    """The SMR of each patient's disease in ``state`` (``active`` or ``remission``)."""
    values = [getattr(scenario.disease_course[d], f"smr_{state}") for d in cohort.diseases]
    return np.asarray(values, dtype=float)[cohort.disease]


def waiting_death_days(scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """Days from referral to death if the disease stays active (deaths while waiting)."""
    assert scenario.mortality is not None
    years = death_years(
        scenario.mortality,
        cohort.age,
        cohort.female,
        cohort.draw("death"),
        [(np.full(cohort.size, np.inf), smr_by_patient(scenario, cohort, "active"))],
    )
    return years * DAYS_PER_YEAR


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
