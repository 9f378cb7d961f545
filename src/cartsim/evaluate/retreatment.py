"""The second treatment after a relapse: its patients' columns and its costs.

A relapsing patient referred again (:mod:`cartsim.engine.retreatment`) has a second journey in
the log of the target arm's stages. Its waits and treatment day come from that log; its stage
costs, inpatient and ICU days, adverse events (uniforms ``retreat.*``), follow-up, relapse cost
and utility losses are the target arm's, all under the cost category ``retreatment`` (the states
it leads to are valued with the disease course, :mod:`cartsim.evaluate.course`). Money is in the
scenario's currency and price year; days since day 0.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import EVENT_CODE, codes_to_categorical
from cartsim.engine.model import ArmRun
from cartsim.engine.retreatment import RETREAT
from cartsim.evaluate.cashflows import (
    Course,
    Flow,
    Lump,
    follow_up_window,
    stage_lumps,
    treatment_lumps,
    utility_losses,
)
from cartsim.evaluate.derive import Columns, patient_columns, patient_log, stage_starts
from cartsim.inputs.scenario import Arm, Scenario
from cartsim.inputs.sites import all_resources

CATEGORY = "retreatment"
REFERRAL = EVENT_CODE["referral"]


def retreatment_columns(
    scenario: Scenario, arm: Arm, run: ArmRun, cohort: Cohort, horizon: float
) -> Columns:
    """Per patient: ``retreated`` (referred again before the horizon), ``retreat_arm`` (the
    arm referred to, missing: none), ``retreatment_day`` (the second treatment, NaN: none),
    ``retreat_wait_days`` (queueing in the second journey) and ``_retreat_rule`` (index into
    ``arm.on_relapse``, -1: none)."""
    n = cohort.size
    rule = np.full(n, -1, dtype=np.int64)
    day, wait = np.full(n, np.nan), np.full(n, np.nan)
    resources, names = list(all_resources(scenario)), list(scenario.arms)
    for k, second in enumerate(run.retreat):
        target = scenario.arms[arm.on_relapse[k].arm]
        log = patient_log(second, horizon)
        referred = np.zeros(n, dtype=bool)
        referred[log.patient[log.event == REFERRAL]] = True
        columns = patient_columns(cohort, second, target, resources, horizon)
        rule[referred] = k
        day = np.where(referred, columns["treatment_day"], day)
        wait = np.where(referred, columns["wait_days"], wait)
    arm_index = np.asarray([names.index(r.arm) for r in arm.on_relapse] + [-1])[rule]
    return {
        "retreated": rule >= 0,
        "retreat_arm": cast(np.ndarray, codes_to_categorical(arm_index, names)),  # masks alike
        "retreatment_day": day,
        "retreat_wait_days": wait,
        "_retreat_rule": rule,
    }


def add_retreatment_costs(
    scenario: Scenario, arm: Arm, run: ArmRun, cohort: Cohort, course: Course, patients: Columns
) -> None:
    """Append the second treatments' costs and utility losses to ``course`` (cut at its end)."""
    resources, horizon = list(all_resources(scenario)), scenario.run.horizon_days
    end, n = course.end, cohort.size
    view = cohort.view(RETREAT)
    rule_of = np.asarray(patients["_retreat_rule"])
    for k, second in enumerate(run.retreat):
        target = scenario.arms[arm.on_relapse[k].arm]
        mine = rule_of == k
        t2 = np.where(mine, np.asarray(patients["retreatment_day"], dtype=float), np.nan)
        ae = target.adverse_events
        columns = patient_columns(cohort, second, target, resources, horizon)
        drawn = {
            name: mine & (view.draw(name) < getattr(ae, name))
            for name in ("serious_infection", "ivig", "secondary_malignancy")
        }
        sub = {
            "treatment_day": t2,
            "crs_grade": np.where(mine, second.grades["crs"], 0),
            "icu_days": np.where(mine, columns["icu_days"], 0.0),
            **drawn,
        }
        starts = stage_starts(second, target, resources, horizon)
        eco = target.economics
        fu_start, fu_end = follow_up_window(eco, t2)
        fu_end = np.fmin(fu_end, end)
        course.flows.append(
            Flow(CATEGORY, fu_start, fu_end, np.full(n, eco.follow_up_cost_per_year))
        )
        course.flows += utility_losses(target, sub, end)
        relapse2 = np.where(mine, np.asarray(patients["retreat_relapse_day"], dtype=float), np.nan)
        lumps = [
            *stage_lumps(target, starts),
            *treatment_lumps(scenario, target, sub),
            Lump(CATEGORY, relapse2, np.full(n, eco.relapse_cost)),
        ]
        for x in lumps:
            owners = x.owners(n)
            day = np.where(x.day < end[owners], x.day, np.nan)
            course.lumps.append(Lump(CATEGORY, day, x.amount, x.patient))
