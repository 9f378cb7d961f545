"""Adverse-event grades, drawn before the simulation because they drive the inpatient stay.

Each grade comes from a uniform shared by all arms (``crs_grade``, ``icans_grade``), so arms
differ only through their grade risks.
"""

from __future__ import annotations

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.inputs.clinical import GradeRisks
from cartsim.inputs.scenario import Arm


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
