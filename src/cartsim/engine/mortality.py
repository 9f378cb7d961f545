"""Death times: general-population Gompertz mortality times an SMR for the patient's state.

Used before the simulation (the day a waiting patient would die with active disease) and after it
(the clinical course), with the same per-patient uniform ``death``, so waiting costs life. Ages
and times are in years unless named ``*_days``.
"""

from __future__ import annotations

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
