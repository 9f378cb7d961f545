"""The event log: one flat record per thing that happens to a patient.

Records are ``(patient_id, stage, event, time, resource)`` with stage and resource as integer codes,
kept in one flat list (``record`` extends it by five numbers: the cheapest way to log from Python);
``arrays`` turns them into columns. Nothing here aggregates.
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
STATUSES = (*TERMINAL, "in_progress")  # a patient's status at the end of a run
NO_CODE = -1


class EventLog:
    """Append-only log of one arm in one replication."""

    def __init__(self, stages: list[str], resources: list[str]) -> None:
        self.stages = stages
        self.resources = resources
        self.flat: list[float] = []
        self._arrays: dict[str, np.ndarray] | None = None

    def record(self, patient: int, stage: int, event: int, time: float, resource: int) -> None:
        self.flat.extend((patient, stage, event, time, resource))

    def __len__(self) -> int:
        return len(self.flat) // 5

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns as numpy arrays (codes for stage, event and resource); cached."""
        if self._arrays is None or self._arrays["time"].size != len(self):
            table = np.array(self.flat, dtype=np.float64).reshape(-1, 5)
            self._arrays = {
                name: table[:, j].copy() if name == "time" else table[:, j].astype(np.int64)
                for j, name in enumerate(("patient_id", "stage", "event", "time", "resource"))
            }
        return self._arrays


def codes_to_categorical(
    codes: np.ndarray, names: list[str] | tuple[str, ...]
) -> pd.Categorical[str]:
    """Integer codes (``-1`` for none) as a pandas categorical with the given names."""
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(list(names)))
