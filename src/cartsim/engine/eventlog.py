"""The event log: one flat record per thing that happens to a patient.

Records are ``(patient_id, stage, event, time, resource)`` with stage and resource as integer codes.
The simulation appends them to a flat Python list (``flat.extend`` of five numbers: the cheapest
way to log from Python), and ``compact`` moves what the list holds into a chunk of typed columns
(:data:`COLUMNS`: 17 bytes a record rather than five Python objects), so a long run keeps its log
in typed arrays and only a short tail as Python objects; ``arrays`` joins the chunks into one.
Nothing here aggregates.
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
COLUMNS = {  # the log's columns and their types (codes of stages, events, resources; -1: none)
    "patient_id": np.int32,
    "stage": np.int16,
    "event": np.int8,
    "time": np.float64,  # days
    "resource": np.int16,
}
Chunk = dict[str, np.ndarray]


class EventLog:
    """Append-only log of one arm in one replication."""

    def __init__(self, stages: list[str], resources: list[str]) -> None:
        self.stages = stages
        self.resources = resources
        self.flat: list[float] = []  # the tail, appended to in place (its identity never changes)
        self.chunks: list[Chunk] = []  # compacted records, typed columns, in order
        self._compacted = 0  # records held in chunks

    def record(self, patient: int, stage: int, event: int, time: float, resource: int) -> None:
        self.flat.extend((patient, stage, event, time, resource))

    def compact(self) -> None:
        """Move the tail into a typed chunk (records are whole: the tail holds multiples of 5)."""
        if self.flat:
            table = np.array(self.flat, dtype=np.float64).reshape(-1, 5)
            self._add(
                {name: table[:, j].astype(kind) for j, (name, kind) in enumerate(COLUMNS.items())}
            )
            del self.flat[:]

    def _add(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)
        self._compacted += chunk["time"].size

    def extend(self, other: EventLog) -> None:
        """Append every record of ``other``."""
        self.compact()
        other.compact()
        for chunk in other.chunks:
            self._add(chunk)

    def __len__(self) -> int:
        return self._compacted + len(self.flat) // 5

    def arrays(self) -> Chunk:
        """The log's columns (:data:`COLUMNS`), joined into one chunk: no copy kept besides."""
        self.compact()
        if len(self.chunks) != 1:
            joined = {
                name: np.concatenate([c[name] for c in self.chunks]).astype(kind, copy=False)
                if self.chunks
                else np.zeros(0, dtype=kind)
                for name, kind in COLUMNS.items()
            }
            self.chunks = [joined]
        return self.chunks[0]


def codes_to_categorical(
    codes: np.ndarray, names: list[str] | tuple[str, ...]
) -> pd.Categorical[str]:
    """Integer codes (``-1`` for none) as a pandas categorical with the given names."""
    import pandas as pd

    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(list(names)))
