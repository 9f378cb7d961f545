"""Costs, QALYs and budget impact per patient: pure, vectorised functions on tables.

A patient's course is cut into *flows* (a rate per year over an interval: disease-management
costs while active, follow-up after treatment, utility in each health state) and *lumps* (an
amount at a moment: a stage that starts, the inpatient stay, adverse-event treatment, a relapse,
a utility loss). Each patient's time zero is their referral; flows and lumps end at death or at
the time horizon. Discounting is continuous (:mod:`cartsim.evaluate.discounting`); budget impact is
undiscounted spend per calendar year. Money is in the scenario's currency and price year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartsim.evaluate.derive import Columns
from cartsim.evaluate.discounting import discounted_integral, discounted_point
from cartsim.inputs.clinical import Economics
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.stages import Inpatient
from cartsim.inputs.units import DAYS_PER_YEAR

UTILITY = "utility"


@dataclass
class Flow:
    """A rate per year (EUR, or utility) from ``start`` to ``end`` day, one value per patient."""

    category: str
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray


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
    flows: list[Flow] = field(default_factory=list)
    lumps: list[Lump] = field(default_factory=list)

    def subset(self, mask: np.ndarray) -> Course:
        """The same course for the patients selected by ``mask`` only."""
        return Course(
            arrival=self.arrival[mask],
            end=self.end[mask],
            flows=[Flow(f.category, f.start[mask], f.end[mask], f.rate[mask]) for f in self.flows],
            lumps=[_subset_lump(x, mask) for x in self.lumps],
        )


def _subset_lump(lump: Lump, mask: np.ndarray) -> Lump:
    if lump.patient is None:
        return Lump(lump.category, lump.day[mask], lump.amount[mask])
    keep = mask[lump.patient]
    renumber = np.cumsum(mask) - 1
    return Lump(lump.category, lump.day[keep], lump.amount[keep], renumber[lump.patient[keep]])


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

    ``starts`` has one row per stage start: ``patient_id, stage`` (index into the arm's stages)
    and ``time`` (day).
    """
    assert scenario.economics is not None
    max_age = scenario.mortality.max_age if scenario.mortality else np.inf
    arrival, end = _col(patients, "arrival_day"), horizon_end(patients, scenario.economics, max_age)
    treat, respond = _col(patients, "treatment_day"), _col(patients, "response_day")
    relapse = _col(patients, "relapse_day")
    treated, responder = ~np.isnan(treat), ~np.isnan(respond)
    never = np.full(arrival.size, np.nan)
    relapsed = np.where(responder, relapse, never)  # active again after a relapse
    after_treatment = np.where(responder, relapse, treat)  # active, on SoC drugs, from here
    u_active = _per_disease(scenario, patients, "utility_active")
    c_active = _per_disease(scenario, patients, "cost_active_per_year")
    flows = [
        Flow("active_disease", arrival, np.where(treated, treat, end), c_active),
        Flow("active_disease", after_treatment, end, c_active),
        Flow(
            "remission_care",
            respond,
            np.where(np.isnan(relapse), end, relapse),
            _per_disease(scenario, patients, "cost_remission_per_year"),
        ),
        Flow(UTILITY, arrival, np.where(responder, respond, end), u_active),
        Flow(UTILITY, relapsed, end, u_active),
        Flow(
            UTILITY,
            respond,
            np.where(np.isnan(relapse), end, relapse),
            _per_disease(scenario, patients, "utility_remission"),
        ),
        Flow(
            "follow_up",
            treat,
            treat + arm.economics.follow_up_years * DAYS_PER_YEAR,
            np.full(arrival.size, arm.economics.follow_up_cost_per_year),
        ),
    ]
    flows = [Flow(f.category, f.start, np.fmin(f.end, end), f.rate) for f in flows]
    lumps = [*_stage_lumps(arm, starts), *_treatment_lumps(scenario, arm, patients)]
    lumps.append(Lump("relapse", relapse, np.full(arrival.size, arm.economics.relapse_cost)))
    n = arrival.size
    lumps = [x.restricted(np.where(x.day < end[x.owners(n)], x.day, np.nan)) for x in lumps]
    return Course(arrival=arrival, end=end, flows=flows, lumps=lumps)


def _stage_lumps(arm: Arm, starts: Columns) -> list[Lump]:
    """One entry per start of a costed stage (twice for a stage repeated after a failure)."""
    stage, time, patient = starts["stage"], _col(starts, "time"), starts["patient_id"]
    lumps = []
    for index, spec in enumerate(arm.stages):
        sel = stage == index
        for category, cost in spec.costs.items():
            amount = np.full(int(sel.sum()), cost)
            lumps.append(Lump(category, time[sel], amount, patient[sel]))
    return lumps


def _treatment_lumps(scenario: Scenario, arm: Arm, patients: Columns) -> list[Lump]:
    """Hospital days, adverse-event treatment and utility losses, at the treatment day."""
    treat = _col(patients, "treatment_day")
    n = treat.size
    ae, unit = arm.adverse_events, scenario.unit_costs
    crs = patients["crs_grade"]
    ward = sum((s.cost_per_day for s in arm.stages if isinstance(s, Inpatient)), 0.0)
    icu = sum((s.icu.cost_per_day for s in arm.stages if isinstance(s, Inpatient) and s.icu), 0.0)
    icu_days = _col(patients, "icu_days")
    adverse = (
        (crs >= ae.tocilizumab_from_crs_grade) * ae.tocilizumab_doses * unit.tocilizumab_dose
        + patients["serious_infection"] * unit.serious_infection_episode
        + patients["ivig"] * unit.ivig_per_year * ae.ivig_days / DAYS_PER_YEAR
        + patients["secondary_malignancy"] * unit.secondary_malignancy
    )
    qaly_loss = (
        (crs >= 1) * ae.crs_disutility * ae.crs_disutility_days
        + icu_days * ae.icu_disutility_per_day
        + arm.economics.episode_disutility * arm.economics.episode_disutility_days
    ) / DAYS_PER_YEAR
    return [
        Lump("inpatient", treat, (_col(patients, "inpatient_days") - icu_days) * ward),
        Lump("icu", treat, icu_days * icu),
        Lump("adverse_events", treat, adverse.astype(float)),
        Lump(UTILITY, treat, -qaly_loss * np.ones(n)),
    ]


def evaluate(course: Course, economics: Economics) -> Columns:
    """Per-patient costs by category (discounted), totals, QALYs and life-years."""
    years = lambda day: (day - course.arrival) / DAYS_PER_YEAR  # noqa: E731
    out: dict[str, np.ndarray] = {}
    zeros = np.zeros(course.arrival.size)
    undiscounted_cost = np.zeros(course.arrival.size)
    qaly = np.zeros(course.arrival.size)
    qaly_raw = np.zeros(course.arrival.size)
    for flow in course.flows:
        t0, t1 = years(flow.start), years(np.fmax(flow.start, flow.end))
        valid = np.isfinite(t0) & np.isfinite(t1)
        t0, t1 = np.where(valid, t0, 0.0), np.where(valid, t1, 0.0)
        if flow.category == UTILITY:
            qaly += discounted_integral(t0, t1, economics.discount_rate_effects, flow.rate)
            qaly_raw += flow.rate * (t1 - t0)
            continue
        value = discounted_integral(t0, t1, economics.discount_rate_costs, flow.rate)
        out[flow.category] = out.get(flow.category, zeros) + value
        undiscounted_cost += flow.rate * (t1 - t0)
    n = course.arrival.size
    for lump in course.lumps:
        owner = lump.owners(n)
        t = (lump.day - course.arrival[owner]) / DAYS_PER_YEAR
        valid = np.isfinite(t)
        t, amount = np.where(valid, t, 0.0), np.where(valid, lump.amount, 0.0)
        rate = (
            economics.discount_rate_effects
            if lump.category == UTILITY
            else economics.discount_rate_costs
        )
        present = np.bincount(owner, weights=discounted_point(t, rate, amount), minlength=n)
        raw = np.bincount(owner, weights=amount, minlength=n)
        if lump.category == UTILITY:
            qaly += present
            qaly_raw += raw
            continue
        out[lump.category] = out.get(lump.category, zeros) + present
        undiscounted_cost += raw
    table = {f"cost_{k}": v for k, v in sorted(out.items())}
    table["cost_total"] = np.sum(list(table.values()), axis=0) if table else zeros
    table["cost_undiscounted"] = undiscounted_cost
    table["qaly_total"] = qaly
    table["qaly_undiscounted"] = qaly_raw
    table["life_years"] = (course.end - course.arrival) / DAYS_PER_YEAR
    return table


def budget(course: Course, treatment_day: np.ndarray, years: int) -> pd.DataFrame:
    """Undiscounted spend per calendar year (year 0 starts on day 0) and patients treated."""
    edges = np.arange(years + 1) * DAYS_PER_YEAR
    rows: dict[str, np.ndarray] = {}
    for flow in course.flows:
        if flow.category == UTILITY:
            continue
        start, stop = np.nan_to_num(flow.start, nan=0.0), np.nan_to_num(flow.end, nan=0.0)
        stop = np.where(np.isnan(flow.start), start, np.fmax(start, stop))
        lo = np.clip(start[:, None], edges[:-1], edges[1:])
        hi = np.clip(stop[:, None], edges[:-1], edges[1:])
        spend = ((hi - lo) / DAYS_PER_YEAR * flow.rate[:, None]).sum(axis=0)
        rows[flow.category] = rows.get(flow.category, 0.0) + spend
    for lump in course.lumps:
        if lump.category == UTILITY:
            continue
        valid = ~np.isnan(lump.day) & (lump.day < edges[-1])
        spend = np.bincount(
            (lump.day[valid] // DAYS_PER_YEAR).astype(int),
            weights=lump.amount[valid],
            minlength=years,
        )[:years]
        rows[lump.category] = rows.get(lump.category, 0.0) + spend
    table = pd.DataFrame({f"cost_{k}": v for k, v in sorted(rows.items())})
    table["cost_total"] = table.sum(axis=1)
    treated = treatment_day[~np.isnan(treatment_day) & (treatment_day < edges[-1])]
    table.insert(
        0,
        "patients_treated",
        np.bincount((treated // DAYS_PER_YEAR).astype(int), minlength=years)[:years],
    )
    table.insert(0, "year", np.arange(years))
    return table
