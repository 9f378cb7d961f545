"""The event log: one flat record per thing that happens to a patient.

Records are ``(patient_id, stage, event, time, resource)`` with stage and resource as integer codes;
``to_frame`` turns them into the ``events`` table. Nothing here aggregates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EVENTS = (
    "referral",  # patient referred (stage: none)
    "queue",  # joins the queue of a resource
    "leave_queue",  # leaves a queue without service (died or dropped out while waiting)
    "start",  # stage or service starts
    "end",  # stage or service ends
    "treatment",  # the therapy acts
    "completed",  # pathway finished
    "died_waiting",
    "dropped_out",
    "failed",  # product failed and no attempts left
    "not_eligible",
)
EVENT_CODE = {name: i for i, name in enumerate(EVENTS)}
TERMINAL = ("completed", "died_waiting", "dropped_out", "failed", "not_eligible")
NO_CODE = -1


class EventLog:
    """Append-only log of one arm in one replication."""

    def __init__(self, stages: list[str], resources: list[str]) -> None:
        self.stages = stages
        self.resources = resources
        self.rows: list[tuple[int, int, int, float, int]] = []

    def record(self, patient: int, stage: int, event: int, time: float, resource: int) -> None:
        self.rows.append((patient, stage, event, time, resource))

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns as numpy arrays (codes for stage, event and resource)."""
        if not self.rows:
            empty_i = np.empty(0, dtype=np.int64)
            return {
                "patient_id": empty_i,
                "stage": empty_i,
                "event": empty_i,
                "time": np.empty(0),
                "resource": empty_i,
            }
        patient, stage, event, time, resource = zip(*self.rows, strict=True)
        return {
            "patient_id": np.fromiter(patient, np.int64, len(self.rows)),
            "stage": np.fromiter(stage, np.int64, len(self.rows)),
            "event": np.fromiter(event, np.int64, len(self.rows)),
            "time": np.fromiter(time, np.float64, len(self.rows)),
            "resource": np.fromiter(resource, np.int64, len(self.rows)),
        }


def codes_to_categorical(codes: np.ndarray, names: list[str] | tuple[str, ...]) -> pd.Categorical:
    """Integer codes (``-1`` for none) as a pandas categorical with the given names."""
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=list(names))
