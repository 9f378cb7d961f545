"""Adverse-event grades, drawn before the simulation because they drive the inpatient stay.

Each grade comes from a uniform shared by all arms (``crs_grade``, ``icans_grade``,
``licats_grade``), so arms differ only through their grade risks.
"""

from __future__ import annotations

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.inputs.clinical import GradeRisks
from cartsim.inputs.scenario import Arm
from cartsim.inputs.stages import Inpatient, Treatment


def grades(risks: GradeRisks, u: np.ndarray) -> np.ndarray:
    """Grade 0-4 per patient: how many of the cumulative risks the uniform ``u`` falls below."""
    out = np.zeros(u.size, dtype=np.int8)
    for p in risks.cumulative():
        out += u < p
    return out


def adverse_event_grades(arm: Arm, cohort: Cohort) -> dict[str, np.ndarray]:
    """CRS, ICANS and LICATS grade (0-4) per patient for this arm."""
    ae = arm.adverse_events
    return {
        "crs": grades(ae.crs, cohort.draw("crs_grade")),
        "icans": grades(ae.icans, cohort.draw("icans_grade")),
        "licats": grades(ae.licats, cohort.draw("licats_grade")),
    }


def treated_stay(arm: Arm) -> int | None:
    """Index of the inpatient stage in which the treatment acts (the first with a
    ``treatment_day``), else the first inpatient stage after a treatment stage; None if none."""
    stages = arm.stages
    for k, stage in enumerate(stages):
        if isinstance(stage, Inpatient) and stage.treatment_day is not None:
            return k
    treated = False
    for k, stage in enumerate(stages):
        treated = treated or isinstance(stage, Treatment)
        if treated and isinstance(stage, Inpatient):
            return k
    return None


def licats_extra_days(arm: Arm, grade: np.ndarray) -> np.ndarray:
    """Inpatient days LICATS adds per patient: the arm's grade-3 extra days from grade 3 on."""
    return arm.adverse_events.licats_grade3_extra_days * (grade >= 3)
