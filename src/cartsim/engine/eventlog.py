"""The event log: one flat record per thing that happens to a patient.

Records are ``(patient_id, stage, event, time, resource)`` with stage and resource as integer codes.
The simulation appends them to a flat Python list (``flat.extend`` of five numbers: the cheapest
way to log from Python), and ``compact`` moves what the list holds into a typed float64 chunk
(8 bytes a number rather than a Python object each), so a long run keeps its log in typed arrays
and only a short tail as Python objects; ``arrays`` turns chunks and tail into columns. Nothing
here aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

COMPACT_EVERY = 4096  # referrals between two calls of ``EventLog.compact`` in a run

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
        self.flat: list[float] = []  # the tail, appended to in place (its identity never changes)
        self.chunks: list[np.ndarray] = []  # compacted records, flat float64, in order
        self._compacted = 0  # numbers held in chunks
        self._arrays: dict[str, np.ndarray] | None = None

    def record(self, patient: int, stage: int, event: int, time: float, resource: int) -> None:
        self.flat.extend((patient, stage, event, time, resource))

    def compact(self) -> None:
        """Move the tail into a typed chunk (records are whole: the tail holds multiples of 5)."""
        if self.flat:
            chunk = np.array(self.flat, dtype=np.float64)
            self.chunks.append(chunk)
            self._compacted += chunk.size
            del self.flat[:]

    def extend(self, other: EventLog) -> None:
        """Append every record of ``other``."""
        self.compact()
        for chunk in [*other.chunks, np.array(other.flat, dtype=np.float64)]:
            if chunk.size:
                self.chunks.append(chunk)
                self._compacted += chunk.size

    def __len__(self) -> int:
        return (self._compacted + len(self.flat)) // 5

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns as numpy arrays (codes for stage, event and resource); cached."""
        if self._arrays is None or self._arrays["time"].size != len(self):
            self.compact()
            if len(self.chunks) > 1:
                self.chunks = [np.concatenate(self.chunks)]
            flat = self.chunks[0] if self.chunks else np.zeros(0)
            table = flat.reshape(-1, 5)
            self._arrays = {
                name: table[:, j].copy() if name == "time" else table[:, j].astype(np.int64)
                for j, name in enumerate(("patient_id", "stage", "event", "time", "resource"))
            }
        return self._arrays


def codes_to_categorical(
    codes: np.ndarray, names: list[str] | tuple[str, ...]
) -> pd.Categorical[str]:
    """Integer codes (``-1`` for none) as a pandas categorical with the given names."""
    import pandas as pd

    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(list(names)))
