"""Pure functions from the event log to the events, patients and resources tables.

Nothing is accumulated inside the simulation: waits, stays, vein-to-vein times and the
time-weighted in-use and queue-length series are all read off the log here, vectorised.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import numpy as np
import pandas as pd

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import (
    EVENT_CODE,
    EVENTS,
    NO_CODE,
    STATUSES,
    TERMINAL,
    EventLog,
    codes_to_categorical,
)
from cartsim.engine.model import ArmRun
from cartsim.inputs.scenario import Arm
from cartsim.inputs.stages import Inpatient, Transport, Treatment

QUEUE, LEAVE, START, END = (EVENT_CODE[e] for e in ("queue", "leave_queue", "start", "end"))
TREATMENT = EVENT_CODE["treatment"]


def among(values: np.ndarray, codes: Iterable[int]) -> np.ndarray:
    """``np.isin(values, codes)`` for a few integer codes (an event log's, a flow's category):
    one comparison per code, several times faster than ``np.isin`` (which sorts, or builds a
    table) on the thousand-odd records of a PSA unit."""
    out = np.zeros(np.shape(values), dtype=bool)
    for code in codes:
        out |= values == code
    return out


class PatientLog:
    """One arm's log cut at the horizon and sorted patient by patient (chronological within)."""

    def __init__(self, run: ArmRun, horizon: float) -> None:
        cols = run.log.arrays()
        keep = cols["time"] <= horizon
        order = np.argsort(cols["patient_id"][keep], kind="stable")
        self.patient = cols["patient_id"][keep][order]
        self.stage = cols["stage"][keep][order]
        self.event = cols["event"][keep][order]
        self.time = cols["time"][keep][order]
        self.resource = cols["resource"][keep][order]
        self.horizon = horizon

    def queue_waits(self) -> tuple[np.ndarray, np.ndarray]:
        """Index of every queue event and how long the patient stayed in that queue (days).

        A queue ends at the patient's next start or leave: only queue, start and leave events
        are read, so an end logged in between (a dose coming back to its stock while its
        patient queues for a bed) does not cut the queue short.
        """
        steps = np.flatnonzero(among(self.event, (QUEUE, START, LEAVE)))
        event, patient = self.event[steps], self.patient[steps]
        k = np.flatnonzero(event == QUEUE)
        nxt = np.minimum(k + 1, steps.size - 1)
        served = (nxt > k) & (patient[nxt] == patient[k]) & among(event[nxt], (START, LEAVE))
        q = steps[k]
        left_at = np.where(served, self.time[steps[nxt]], self.horizon)
        return q, left_at - self.time[q]

    def per_patient_sum(self, idx: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(self.patient[idx], weights=values, minlength=n)

    def occupied_days(self, mask: np.ndarray, n: int) -> np.ndarray:
        """Per patient: total time between start and end events selected by ``mask`` (days)."""
        starts = np.flatnonzero(mask & (self.event == START))
        ends = np.flatnonzero(mask & (self.event == END))
        total = self.per_patient_sum(ends, self.time[ends], n) - self.per_patient_sum(
            starts, self.time[starts], n
        )
        open_count = np.bincount(self.patient[starts], minlength=n) - np.bincount(
            self.patient[ends], minlength=n
        )
        return total + open_count * self.horizon

    def first_time(self, mask: np.ndarray, n: int) -> np.ndarray:
        """Per patient: the earliest time of the events selected by ``mask`` (NaN if none)."""
        out = np.full(n, np.nan)
        np.fmin.at(out, self.patient[mask], self.time[mask])  # fmin(NaN, t) is t
        return out


_SORTED: weakref.WeakKeyDictionary[EventLog, tuple[int, float, PatientLog]] = (
    weakref.WeakKeyDictionary()
)


SORTED_KEPT = 1 << 20  # records of a log whose sorted copy is kept for the next table


def patient_log(run: ArmRun, horizon: float) -> PatientLog:
    """:class:`PatientLog` of ``run``, sorted once for every table read off it (made again if
    records were added since); its columns are read-only. A large log's copy is not kept: it
    would stay in memory as long as the log."""
    kept = _SORTED.get(run.log)
    if kept is not None and kept[0] == len(run.log) and kept[1] == horizon:
        return kept[2]
    log = PatientLog(run, horizon)
    if len(run.log) > SORTED_KEPT:
        return log
    for column in (log.patient, log.stage, log.event, log.time, log.resource):
        column.flags.writeable = False
    _SORTED[run.log] = (len(run.log), horizon, log)
    return log


Columns = dict[str, np.ndarray]


def icu_resource_codes(arm: Arm, resources: list[str]) -> list[int]:
    """Codes of the ICU resources of the arm's inpatient stages: the national one and every
    site's own of that name (``site.name``)."""
    names = {s.icu.resource for s in arm.stages if isinstance(s, Inpatient) and s.icu}
    return [i for i, r in enumerate(resources) if r.rsplit(".", 1)[-1] in names]


def patient_columns(
    cohort: Cohort, run: ArmRun, arm: Arm, resources: list[str], horizon: float
) -> Columns:
    """Per referred patient of one arm: status, days of waits, stays and vein-to-vein.

    Columns of equal length in patient order; ``disease`` and ``status`` are integer codes
    (into ``cohort.diseases`` and :data:`STATUSES`): :func:`patients_frame` makes the table.
    """
    n = cohort.size
    log = patient_log(run, horizon)
    status = np.full(n, len(TERMINAL), dtype=np.int32)  # in_progress unless a terminal event
    terminal_codes = [EVENT_CODE[e] for e in TERMINAL]
    term = np.flatnonzero(among(log.event, terminal_codes))
    status[log.patient[term]] = [TERMINAL.index(EVENTS[c]) for c in log.event[term]]
    exit_day = np.full(n, np.nan)
    exit_day[log.patient[term]] = log.time[term]
    treatment_day = log.first_time(log.event == TREATMENT, n)
    table: Columns = {
        "patient_id": cohort.patient_id,
        "disease": cohort.disease,
        **({} if cohort.site is None else {"site": cohort.site}),
        "age": cohort.age,
        "female": cohort.female,
        "arrival_day": cohort.arrival_day,
        "status": status,
        "treatment_day": treatment_day,
        "exit_day": exit_day,
    }
    q, waits = log.queue_waits()
    icu_codes = set(icu_resource_codes(arm, resources))
    is_icu = among(log.resource[q], icu_codes)
    pre = np.zeros(n)
    for i, stage in enumerate(arm.stages):
        sel = q[(log.stage[q] == i) & ~is_icu]
        if isinstance(stage, Transport):  # waiting for the courier: not a resource's queue
            w = waits[(log.stage[q] == i) & ~is_icu]
            queued = np.bincount(log.patient[sel], minlength=n) > 0
            table[f"wait_{stage.name}_days"] = np.where(
                queued, log.per_patient_sum(sel, w, n), np.nan
            )
            continue
        if getattr(stage, "resource", None) is None:
            continue
        w = waits[(log.stage[q] == i) & ~is_icu]
        queued = np.bincount(log.patient[sel], minlength=n) > 0
        total = log.per_patient_sum(sel, w, n)
        table[f"wait_{stage.name}_days"] = np.where(queued, total, np.nan)
        pre += total
    table["wait_days"] = pre
    table["icu_wait_days"] = log.per_patient_sum(q[is_icu], waits[is_icu], n)
    table["referral_to_treatment_days"] = treatment_day - cohort.arrival_day
    if arm.vein_to_vein_from:
        index = [s.name for s in arm.stages].index(arm.vein_to_vein_from)
        first = log.first_time((log.stage == index) & (log.event == START), n)
        table["vein_to_vein_days"] = treatment_day - first
    else:
        table["vein_to_vein_days"] = np.full(n, np.nan)
    inpatient_stages = [i for i, s in enumerate(arm.stages) if isinstance(s, Inpatient)]
    is_inpatient_stage = among(log.stage, inpatient_stages)
    icu_mask = among(log.resource, icu_codes)
    table["icu_days"] = log.occupied_days(is_inpatient_stage & icu_mask, n)
    ward_days = log.occupied_days(is_inpatient_stage & ~icu_mask & (log.resource != NO_CODE), n)
    table["inpatient_days"] = ward_days
    table["crs_grade"] = run.grades["crs"]
    table["icans_grade"] = run.grades["icans"]
    return table


def patients_frame(
    columns: Columns, diseases: tuple[str, ...] | list[str], sites: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The ``patients`` table: codes become categoricals; 2-D working columns (named ``_*``)
    stay out."""
    frame: dict[str, object] = {k: v for k, v in columns.items() if not k.startswith("_")}
    frame["disease"] = codes_to_categorical(columns["disease"], tuple(diseases))
    if "site" in columns:
        frame["site"] = codes_to_categorical(columns["site"], sites)
    frame["status"] = codes_to_categorical(columns["status"], STATUSES)
    return pd.DataFrame(frame)


def select(columns: Columns, mask: np.ndarray) -> Columns:
    """The rows selected by ``mask`` of every column."""
    return {name: values[mask] for name, values in columns.items()}


def step_daily_mean(times: np.ndarray, deltas: np.ndarray, days: int) -> np.ndarray:
    """Daily time-weighted mean of a step function that changes by ``deltas`` at ``times``."""
    if times.size == 0:
        return np.zeros(days)
    order = np.argsort(times, kind="stable")
    t, level = times[order], np.cumsum(deltas[order])
    area_at_change = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(t))])
    bounds = np.arange(days + 1, dtype=float)
    j = np.searchsorted(t, bounds, side="right") - 1
    jj = np.maximum(j, 0)
    cum = np.where(j >= 0, area_at_change[jj] + level[jj] * (bounds - t[jj]), 0.0)
    return np.diff(cum)


def resource_series(run: ArmRun, resources: list[str], horizon: float) -> dict[str, np.ndarray]:
    """Per resource and day (resource-major): mean in use, mean queue length, capacity."""
    days = int(np.ceil(horizon))
    event, time, resource = _kept_events(run, horizon)
    start = event == START
    queueing = start | (event == QUEUE) | (event == LEAVE)
    in_use = _in_use(event, time, resource, len(resources), days)
    queue = []
    for code in range(len(resources)):
        que = (resource == code) & queueing
        queue.append(step_daily_mean(time[que], np.where(event[que] == QUEUE, 1.0, -1.0), days))
    capacity = np.concatenate(
        [_daily_capacity(run, name, days) for name in resources] or [np.empty(0)]
    )
    use_all = np.concatenate(in_use) if in_use else np.empty(0)
    return {
        "resource": np.repeat(np.arange(len(resources)), days),
        "day": np.tile(np.arange(days), len(resources)),
        "in_use": use_all,
        "queue_length": np.concatenate(queue) if queue else np.empty(0),
        "capacity": capacity,
        "utilisation": utilisation(use_all, capacity),
    }


def _in_use(
    event: np.ndarray, time: np.ndarray, resource: np.ndarray, count: int, days: int
) -> list[np.ndarray]:
    """Per resource code below ``count``, the mean units in use on each day, from the log's
    records kept up to the horizon."""
    start = event == START
    using = start | (event == END)
    out = []
    for code in range(count):
        use = (resource == code) & using
        out.append(step_daily_mean(time[use], np.where(start[use], 1.0, -1.0), days))
    return out


def daily_utilisation(run: ArmRun, resources: list[str], horizon: float) -> list[np.ndarray]:
    """Per resource (in order), the ``utilisation`` column of :func:`resource_series` alone."""
    days = int(np.ceil(horizon))
    in_use = _in_use(*_kept_events(run, horizon), len(resources), days)
    return [
        utilisation(use, _daily_capacity(run, name, days))
        for use, name in zip(in_use, resources, strict=True)
    ]


def _daily_capacity(run: ArmRun, name: str, days: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(run.capacity[name], dtype=float), days)


def utilisation(in_use: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Units in use over capacity (NaN for an unlimited resource)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(capacity), in_use / capacity, np.nan)


def _kept_events(run: ArmRun, horizon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``event``, ``time`` and ``resource`` of the log's records up to the horizon."""
    cols = run.log.arrays()
    keep = cols["time"] <= horizon
    return cols["event"][keep], cols["time"][keep], cols["resource"][keep]


def resources_table(series: dict[str, np.ndarray], resources: list[str]) -> pd.DataFrame:
    """The ``resources`` table from :func:`resource_series`."""
    return pd.DataFrame({**series, "resource": codes_to_categorical(series["resource"], resources)})


def events_table(run: ArmRun, stages: list[str], resources: list[str]) -> pd.DataFrame:
    """The event log as a table (time in days)."""
    cols = run.log.arrays()
    return pd.DataFrame(
        {
            "patient_id": cols["patient_id"].astype(np.int64),
            "stage": codes_to_categorical(cols["stage"], stages),
            "event": codes_to_categorical(cols["event"], EVENTS),
            "time": cols["time"],
            "resource": codes_to_categorical(cols["resource"], resources),
        }
    )


def stage_starts(run: ArmRun, arm: Arm, resources: list[str], horizon: float) -> Columns:
    """``patient_id, stage, time`` of every stage start and treatment (ICU transfers excluded),
    with ``ward_days`` and ``icu_days``: a patient's days in that inpatient stage (ward bed,
    ICU days included; ICU bed), on their first start of it, else 0."""
    cols = run.log.arrays()
    icu = icu_resource_codes(arm, resources)
    treatment_stages = [i for i, s in enumerate(arm.stages) if isinstance(s, Treatment)]
    started = (cols["event"] == START) | (
        (cols["event"] == TREATMENT) & among(cols["stage"], treatment_stages)
    )
    keep = started & (cols["time"] <= horizon) & ~among(cols["resource"], icu)
    out = {name: cols[name][keep] for name in ("patient_id", "stage", "time")}
    out["ward_days"], out["icu_days"] = np.zeros(out["time"].size), np.zeros(out["time"].size)
    log = patient_log(run, horizon)
    n = int(cols["patient_id"].max()) + 1 if cols["patient_id"].size else 0
    is_icu = among(log.resource, icu)
    for i, spec in enumerate(arm.stages):
        if not isinstance(spec, Inpatient):
            continue
        here = log.stage == i
        ward = log.occupied_days(here & ~is_icu & (log.resource != NO_CODE), n)
        icu_days = log.occupied_days(here & is_icu, n)
        rows = np.flatnonzero(out["stage"] == i)
        _, first = np.unique(out["patient_id"][rows], return_index=True)
        rows = rows[first]
        out["ward_days"][rows] = ward[out["patient_id"][rows]]
        out["icu_days"][rows] = icu_days[out["patient_id"][rows]]
    return out
