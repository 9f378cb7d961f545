"""Simulated survival and event-free survival at a fixed time, one value per replication.

No Kaplan–Meier: at time ``t`` (days) after the origin, the value is the share of the
denominator alive (or event-free) at ``origin + t``. The denominator is every patient of the
given arm and disease (and age band, at referral) who was referred after the warm-up, whose
pathway ended within the simulation (status not ``in_progress``; ``not_eligible`` patients never
enter the arm) and who is followed to ``t``: the clinical course draws death days to the end of
the outcome horizon (``economics.horizon_years`` from referral; lifetime when unset), so a
patient counts as followed when ``t`` lies within it. With origin ``treatment`` only treated
patients count and time runs from their treatment day; with origin ``referral`` time runs from
the arrival day (as from randomisation, intention to treat).

Event-free: alive, and, in an arm with a response model for the disease, responded and not
relapsed by ``t`` (non-response counts as an event at the origin). In an arm without a response
model (standard of care here) only death or a recorded relapse ends event-free time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cartsim.inputs.units import DAYS_PER_YEAR

Origin = Literal["referral", "treatment"]
Measure = Literal["overall_survival", "event_free_survival"]


@dataclass(frozen=True)
class Cohort:
    """Which patients a survival figure is about."""

    arm: str
    disease: str
    origin: Origin = "referral"
    min_age: float | None = None  # years, at referral
    max_age: float | None = None  # years, at referral


def denominator(
    patients: pd.DataFrame,
    cohort: Cohort,
    warmup_days: float,
    t_days: float,
    horizon_years: float | None,
) -> pd.DataFrame:
    """The rows of ``patients`` that a figure at ``t_days`` after the origin counts."""
    p = patients
    keep = (p["arm"].astype(str) == cohort.arm) & (p["disease"].astype(str) == cohort.disease)
    keep &= p["arrival_day"] >= warmup_days
    status = p["status"].astype(str)
    keep &= ~status.isin(["in_progress", "not_eligible"])
    if cohort.min_age is not None:
        keep &= p["age"] >= cohort.min_age
    if cohort.max_age is not None:
        keep &= p["age"] <= cohort.max_age
    origin = origin_day(p, cohort.origin)
    keep &= origin.notna()
    if horizon_years is not None:
        keep &= origin + t_days <= p["arrival_day"] + horizon_years * DAYS_PER_YEAR
    return p[keep]


def origin_day(patients: pd.DataFrame, origin: Origin) -> pd.Series:
    """Day 0 of a patient's survival time: arrival (referral) or treatment day."""
    column = "arrival_day" if origin == "referral" else "treatment_day"
    return patients[column].astype(float)


def event_free(
    rows: pd.DataFrame, origin: Origin, t_days: float, response_model: bool, measure: Measure
) -> np.ndarray:
    """Whether each row is alive (or event-free) ``t_days`` after its origin."""
    at = origin_day(rows, origin).to_numpy() + t_days
    death = rows["death_day"].to_numpy(dtype=float)
    ok = np.isnan(death) | (death > at)
    if measure == "event_free_survival":
        relapse = rows["relapse_day"].to_numpy(dtype=float)
        ok &= np.isnan(relapse) | (relapse > at)
        if response_model:
            ok &= rows["response"].to_numpy(dtype=bool)
    return ok


def share_by_replication(
    patients: pd.DataFrame,
    cohort: Cohort,
    measure: Measure,
    t_days: float,
    *,
    warmup_days: float,
    horizon_years: float | None,
    response_model: bool,
    replications: int,
) -> np.ndarray:
    """One share per replication (NaN for a replication with no patient in the denominator).

    ``measure``: ``overall_survival`` (alive at ``t``) or ``event_free_survival`` (see the module
    docstring). ``t_days`` in days after the origin; ``response_model``: whether the arm has a
    response model for the disease.
    """
    rows = denominator(patients, cohort, warmup_days, t_days, horizon_years)
    ok = event_free(rows, cohort.origin, t_days, response_model, measure)
    reps = rows["replication"].to_numpy(dtype=int)
    n = np.bincount(reps, minlength=replications).astype(float)
    alive = np.bincount(reps, weights=ok.astype(float), minlength=replications)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, alive / np.where(n > 0, n, 1.0), np.nan)
