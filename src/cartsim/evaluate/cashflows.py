"""What costs or counts for each patient: a course of *flows* and *lumps* (data, no valuation).

A patient's course is cut into *flows* (a rate per year over an interval: disease-management
costs while active, follow-up after treatment, utility in each health state) and *lumps* (an
amount at a moment: a stage that starts, the inpatient stay, adverse-event treatment, a relapse,
a utility loss). Each patient's time zero is their referral; flows and lumps end at death or at
the time horizon. Every flow and lump holds one array per field (one value per patient, or per
entry), never one Python object per patient. Money is in the scenario's currency and price year;
days since day 0. Valuation is :mod:`cartsim.evaluate.economics`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from cartsim.evaluate.derive import Columns
from cartsim.inputs.clinical import ArmEconomics, Economics, UtilityNorms
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.stages import Inpatient
from cartsim.inputs.units import DAYS_PER_YEAR

UTILITY = "utility"
UTILITY_LOSS = "utility_loss"
SPARSE_FROM = 4096  # patients from which a disease state's flows keep their non-empty entries only


@dataclass
class Flow:
    """A rate per year (EUR, or utility) from ``start`` to ``end`` day: one value per patient,
    or, with ``patient``, one per entry for the patient it names (only the patients for whom
    the flow is not empty: most disease states are never reached)."""

    category: str
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray
    patient: np.ndarray | None = None

    def owners(self, n: int) -> np.ndarray:
        return np.arange(n) if self.patient is None else self.patient


@dataclass
class FlowRows:
    """Several flows over every patient at once, a row each (rows × patients): the disease
    states' flows of a small cohort, built and valued without an object per flow."""

    categories: tuple[str, ...]  # one per row
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray

    def flows(self) -> list[Flow]:
        """The rows as flows of their own, in order."""
        return [
            Flow(c, self.start[j], self.end[j], self.rate[j]) for j, c in enumerate(self.categories)
        ]


def each_flow(flows: list[Flow | FlowRows]) -> Iterator[Flow]:
    """Every flow of a course in order, rows of :class:`FlowRows` one by one."""
    for flow in flows:
        if isinstance(flow, FlowRows):
            yield from flow.flows()
        else:
            yield flow


@dataclass
class Lump:
    """Amounts (EUR, or QALYs lost) on days (NaN: none): one per patient, or, with ``patient``,
    one per entry for the patient it names (a stage that some patients start twice)."""

    category: str
    day: np.ndarray
    amount: np.ndarray
    patient: np.ndarray | None = None

    def owners(self, n: int) -> np.ndarray:
        return np.arange(n) if self.patient is None else self.patient

    def restricted(self, day: np.ndarray) -> Lump:
        return Lump(self.category, day, self.amount, self.patient)


@dataclass
class Course:
    """Everything that costs or counts for one arm's patients."""

    arrival: np.ndarray
    end: np.ndarray  # death or horizon, day
    flows: list[Flow | FlowRows] = field(default_factory=list)
    lumps: list[Lump] = field(default_factory=list)
    age: np.ndarray | None = None  # at referral, years
    male: np.ndarray | None = None
    norms: UtilityNorms | None = None

    def subset(self, mask: np.ndarray) -> Course:
        """The same course for the patients selected by ``mask`` only."""
        return Course(
            arrival=self.arrival[mask],
            end=self.end[mask],
            flows=[_subset_flow(f, mask) for f in self.flows],
            lumps=[_subset_lump(x, mask) for x in self.lumps],
            age=None if self.age is None else self.age[mask],
            male=None if self.male is None else self.male[mask],
            norms=self.norms,
        )


def _kept(patient: np.ndarray | None, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Which entries of selected patients to keep, and their owners numbered among them."""
    if patient is None:
        return mask, None
    keep = mask[patient]
    return keep, (np.cumsum(mask) - 1)[patient[keep]]


def _subset_flow(flow: Flow | FlowRows, mask: np.ndarray) -> Flow | FlowRows:
    if isinstance(flow, FlowRows):
        return FlowRows(flow.categories, flow.start[:, mask], flow.end[:, mask], flow.rate[:, mask])
    keep, owner = _kept(flow.patient, mask)
    return Flow(flow.category, flow.start[keep], flow.end[keep], flow.rate[keep], owner)


def _subset_lump(lump: Lump, mask: np.ndarray) -> Lump:
    keep, owner = _kept(lump.patient, mask)
    return Lump(lump.category, lump.day[keep], lump.amount[keep], owner)


def follow_up_window(eco: ArmEconomics, treated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (days) of the arm's follow-up costs for patients treated on ``treated``:
    from ``follow_up_from_years`` after treatment, for ``follow_up_years``."""
    start = treated + eco.follow_up_from_years * DAYS_PER_YEAR
    return start, start + eco.follow_up_years * DAYS_PER_YEAR


def horizon_end(patients: Columns, economics: Economics, max_age: float) -> np.ndarray:
    """Day each patient leaves the analysis: death, the horizon, or the maximum age."""
    arrival = _col(patients, "arrival_day")
    years = economics.horizon_years if economics.horizon_years is not None else np.inf
    limit = np.minimum(years, max_age - _col(patients, "age"))
    end = arrival + limit * DAYS_PER_YEAR
    death = _col(patients, "death_day")
    return np.where(np.isnan(death), end, np.minimum(end, death))


def _per_disease(scenario: Scenario, patients: Columns, attr: str) -> np.ndarray:
    """``attr`` of each patient's disease (codes index the scenario's diseases)."""
    course = scenario.disease_course
    values = np.asarray([getattr(course[d], attr) for d in scenario.diseases], dtype=float)
    return values[patients["disease"]]


def _col(patients: Columns, name: str) -> np.ndarray:
    return np.asarray(patients[name], dtype=float)


def course(scenario: Scenario, arm: Arm, patients: Columns, starts: Columns) -> Course:
    """Flows and lumps of one arm's patients (``patients`` in patient order).

    ``patients`` carries the disease states (``_state_end``, ``_remission`` of
    :func:`cartsim.evaluate.course.state_path`): each state is costed and valued as lived, active
    disease (on standard of care, waiting, between treatment and response, after a relapse) and
    remission alike. Follow-up after treatment and remission care overlap (both cover routine
    monitoring): where both apply, the larger of the two is charged, not the sum. ``starts`` has
    one row per stage start: ``patient_id, stage`` (index into the arm's stages), ``time`` (day)
    and the ``ward_days``/``icu_days`` of an inpatient stage, charged at its own day rates on
    admission (also for patients admitted but not treated).
    """
    assert scenario.economics is not None
    max_age = scenario.mortality.max_age if scenario.mortality else np.inf
    arrival, end = _col(patients, "arrival_day"), horizon_end(patients, scenario.economics, max_age)
    treat, relapse = _col(patients, "treatment_day"), _col(patients, "relapse_day")
    n = arrival.size
    cost = {
        False: _per_disease(scenario, patients, "cost_active_per_year"),
        True: _per_disease(scenario, patients, "cost_remission_per_year"),
    }
    utility = {
        False: _per_disease(scenario, patients, "utility_active"),
        True: _per_disease(scenario, patients, "remission_utility"),
    }
    eco = arm.economics
    fu_start, fu_end = follow_up_window(eco, treat)
    follow_up = np.full(n, eco.follow_up_cost_per_year)
    flows: list[Flow | FlowRows] = [Flow("follow_up", fu_start, np.fmin(fu_end, end), follow_up)]
    flows += _state_flows(patients, end, cost, utility, (fu_start, fu_end, follow_up))
    flows += utility_losses(arm, patients, end)
    lumps = [*stage_lumps(arm, starts), *treatment_lumps(scenario, arm, patients)]
    lumps.append(Lump("relapse", relapse, np.full(n, eco.relapse_cost)))
    lumps = [x.restricted(np.where(x.day < end[x.owners(n)], x.day, np.nan)) for x in lumps]
    norms = scenario.economics.utility_age_norms
    return Course(
        arrival=arrival,
        end=end,
        flows=flows,
        lumps=lumps,
        age=_col(patients, "age"),
        male=~np.asarray(patients["female"], dtype=bool),
        norms=norms,
    )


STATE_BLOCK = 1 << 16  # values per array at most while the states' flows are built


def _state_flows(
    patients: Columns,
    end: np.ndarray,
    cost: dict[bool, np.ndarray],
    utility: dict[bool, np.ndarray],
    follow: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[Flow | FlowRows]:
    """Per disease state in order: its utility, its active-disease or remission care, and the
    remission care that follow-up already pays for (negative). Built a block of states at a
    time (every state at once for a small cohort, as rows; memory flat for a large one, each
    flow kept for the patients it counts for only)."""
    fu_start, fu_end, follow_up = follow
    state_end = np.asarray(patients["_state_end"])
    remission = np.asarray(patients["_remission"])
    n, states = remission.shape
    stopped = _col(patients, "arrival_day")  # each state starts where the one before stopped
    flows: list[Flow | FlowRows] = []
    step = max(1, STATE_BLOCK // max(n, 1))
    for first in range(0, states, step):
        block = slice(first, first + step)
        bounds = np.fmax.accumulate(np.vstack([stopped, state_end[:, block].T]))
        start, stop, stopped = bounds[:-1], bounds[1:], bounds[-1]
        rem = remission[:, block].T
        care = np.where(rem, cost[True], cost[False])
        overlap = np.where(rem, np.minimum(care, follow_up), 0.0)  # the larger of the two
        cut = np.fmin(stop, end)  # one array for the three flows of each state that share it
        kinds = (
            (UTILITY, start, cut, np.where(rem, utility[True], utility[False])),
            ("active_disease", start, cut, np.where(rem, 0.0, care)),
            ("remission_care", start, cut, np.where(rem, care, 0.0)),
            ("remission_care", np.fmax(start, fu_start), np.fmin(np.fmin(stop, fu_end), end),
             -overlap),
        )  # fmt: skip
        if n < SPARSE_FROM:  # every state's four flows, interleaved state by state
            rows = tuple(c for c, *_ in kinds) * rem.shape[0]
            a, b, r = (
                np.stack([k[i] for k in kinds], axis=1).reshape(len(rows), n) for i in (1, 2, 3)
            )
            flows.append(FlowRows(rows, a, b, r))
        else:
            flows += [
                _entries(c, a[j], b[j], r[j]) for j in range(rem.shape[0]) for c, a, b, r in kinds
            ]
    return flows


def _entries(category: str, start: np.ndarray, end: np.ndarray, rate: np.ndarray) -> Flow:
    """The flow kept only for the patients it counts for (a non-empty interval, a rate)."""
    (patient,) = np.nonzero((end > start) & (rate != 0.0))
    return Flow(category, start[patient], end[patient], rate[patient], patient)


def stage_lumps(arm: Arm, starts: Columns) -> list[Lump]:
    """One entry per start of a costed stage (twice for a stage repeated after a failure), and
    the ward and ICU days of each inpatient stage at that stage's day rates, on admission."""
    stage, time, patient = starts["stage"], _col(starts, "time"), starts["patient_id"]
    lumps = []
    for index, spec in enumerate(arm.stages):
        sel = stage == index
        for category, cost in spec.costs.items():
            amount = np.full(int(sel.sum()), cost)
            lumps.append(Lump(category, time[sel], amount, patient[sel]))
        if isinstance(spec, Inpatient):
            ward, icu = _col(starts, "ward_days")[sel], _col(starts, "icu_days")[sel]
            lumps.append(
                Lump("inpatient", time[sel], (ward - icu) * spec.cost_per_day, patient[sel])
            )
            icu_rate = spec.icu.cost_per_day if spec.icu else 0.0
            lumps.append(Lump("icu", time[sel], icu * icu_rate, patient[sel]))
    return lumps


def treatment_lumps(scenario: Scenario, arm: Arm, patients: Columns) -> list[Lump]:
    """Adverse-event treatment at the treatment day (none where an all-inclusive stage cost
    already pays for it)."""
    treat = _col(patients, "treatment_day")
    ae, unit = arm.adverse_events, scenario.unit_costs
    if not arm.economics.adverse_event_costs:
        return []
    crs = patients["crs_grade"]
    ivig_years = ae.ivig_days / DAYS_PER_YEAR
    adverse = (
        (crs >= ae.tocilizumab_from_crs_grade) * ae.tocilizumab_doses * unit.tocilizumab_dose
        + patients["serious_infection"] * unit.serious_infection_episode
        + patients["ivig"] * unit.ivig_per_year * ae.ivig_dose_fraction * ivig_years
        + patients["secondary_malignancy"] * unit.secondary_malignancy
    )
    return [Lump("adverse_events", treat, adverse.astype(float))]


def utility_losses(arm: Arm, patients: Columns, end: np.ndarray) -> list[Flow]:
    """Utility decrements from the treatment day for their durations, ending at death
    (CRS, ICU days, the treatment episode): negative utility flows of category ``utility_loss``."""
    treat = _col(patients, "treatment_day")
    ae, eco = arm.adverse_events, arm.economics
    crs = np.asarray(patients["crs_grade"]) >= 1
    icu_days = _col(patients, "icu_days")
    losses = [
        (np.where(crs, ae.crs_disutility, 0.0), ae.crs_disutility_days),
        (np.full(treat.size, ae.icu_disutility_per_day), icu_days),
        (np.full(treat.size, eco.episode_disutility), eco.episode_disutility_days),
    ]
    return [
        Flow(UTILITY_LOSS, treat, np.fmin(treat + days, end), -np.asarray(rate, dtype=float))
        for rate, days in losses
    ]
