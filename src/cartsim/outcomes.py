"""The clinical course after (and around) the treatment stage, sampled per patient, vectorised.

Adverse-event grades are drawn before the inpatient stage, from uniforms shared by every arm
(``crs_grade``, ``icans_grade``), so that they drive length of stay and ICU escalation.
"""

from __future__ import annotations

import numpy as np

from cartsim.cohort import Cohort
from cartsim.scenario import Arm, GradeRisks


def grades(risks: GradeRisks, u: np.ndarray) -> np.ndarray:
    """Grade 0-4 per patient: how many of the cumulative risks the uniform ``u`` falls below."""
    return sum((u < p for p in risks.cumulative()), np.zeros(u.size, dtype=np.int8)).astype(np.int8)


def adverse_event_grades(arm: Arm, cohort: Cohort) -> dict[str, np.ndarray]:
    """CRS and ICANS grade (0-4) per patient for this arm (uniforms shared by all arms)."""
    ae = arm.adverse_events
    return {
        "crs": grades(ae.crs, cohort.draw("crs_grade")),
        "icans": grades(ae.icans, cohort.draw("icans_grade")),
    }
