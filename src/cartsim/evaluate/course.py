"""The clinical course after the treatment stage, sampled per patient, vectorised.

Every draw comes from a uniform shared by all arms (``response``, ``relapse``, ``death`` ...), so a
patient's outcome draws are the same in every arm: arms differ only through their probabilities.
Adverse-event grades were drawn before the simulation (:mod:`cartsim.engine.adverse_events`).
Deaths follow general-population Gompertz mortality times a standardised mortality ratio (SMR)
for the patient's state (active disease or remission, :mod:`cartsim.engine.mortality`), plus
treatment-related mortality (TRM). Times are days since day 0 unless named ``*_years``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.engine.eventlog import STATUSES
from cartsim.engine.mortality import soc_switch_days
from cartsim.engine.relapse import Effect, Second, outcome, treatment_effect, weibull_years
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.scenario import Arm, Scenario

relapse_years = weibull_years  # years from response to relapse of a Weibull (the shorthand)


def second_effect(
    scenario: Scenario, arm: Arm, cohort: Cohort, patients: Mapping[str, np.ndarray]
) -> Effect:
    """The retreatment's effect per patient: each retreated patient (``_retreat_rule``: index
    into ``arm.on_relapse``, -1: none) gets the target arm's effect on the day it treats
    (``retreatment_day``), with the rule's response probability where it gives one; uniforms
    ``retreat.*`` of their own."""
    rule_of = np.asarray(patients["_retreat_rule"])
    t2 = np.asarray(patients["retreatment_day"], dtype=float)
    view = cohort.view("retreat.")
    parts = []
    for k, rule in enumerate(arm.on_relapse):
        target = scenario.arms[rule.arm]
        mine = rule_of == k
        response = None if rule.response is None else np.full(cohort.size, rule.response)
        parts.append((mine, treatment_effect(target, view, np.where(mine, t2, np.nan), response)))
    nothing = treatment_effect(arm, view, np.full(cohort.size, np.nan))
    fields = ("treatment_day", "treated", "response", "response_day", "relapse_day", "trm")
    merged = {f: getattr(nothing, f) for f in (*fields, "trm_day")}
    for mine, effect in parts:
        for f in (*fields, "trm_day"):
            merged[f] = np.where(mine, getattr(effect, f), merged[f])
    return Effect(**merged)


def clinical_course(
    scenario: Scenario, arm: Arm, cohort: Cohort, patients: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Outcome columns for one arm's patients (rows in patient order), vectorised.

    Adds ``response``, ``response_day``, ``relapse_day``, ``trm_death``, ``death_day`` (NaN when
    no mortality model), ``serious_infection``, ``ivig``, ``bcell_aplasia_days`` and
    ``secondary_malignancy``; all days since day 0, NaN where the event does not happen. For an
    arm with ``on_relapse`` rules (``patients`` then has ``retreatment_day`` and
    ``_retreat_rule``), also ``retreat_response``, ``retreat_response_day``,
    ``retreat_relapse_day`` and ``retreat_trm_death`` of the second treatment: after it, the
    course is the target arm's (its response, relapse model and TRM); a second relapse returns
    to standard of care (no third treatment).
    """
    t_day = np.asarray(patients["treatment_day"], dtype=float)
    treated = ~np.isnan(t_day)
    effect = treatment_effect(arm, cohort, t_day)
    exit_death = np.asarray(patients["status"]) == STATUSES.index("died_waiting")
    died_waiting = np.where(exit_death, np.asarray(patients["exit_day"], dtype=float), np.nan)
    second = None
    if arm.on_relapse:
        e2 = second_effect(scenario, arm, cohort, patients)
        start2 = np.where(
            e2.response, e2.relapse_day, np.where(e2.treated, e2.treatment_day, np.inf)
        )
        post2 = soc_switch_days(scenario, cohort, start2, "post2")
        t2 = np.where(e2.treated, e2.treatment_day, np.inf)
        second = Second(t2, e2, post2)
    out = outcome(scenario, effect, cohort, died_waiting, second)
    ae = arm.adverse_events
    aplasia = to_dist(ae.bcell_aplasia_days).ppf(cohort.draw("bcell_aplasia"))
    columns = {
        "response": out["response"],
        "response_day": out["response_day"],
        "relapse_day": out["relapse_day"],
        "trm_death": out["trm_death"],
        "death_day": out["death_day"],
        "serious_infection": treated & (cohort.draw("serious_infection") < ae.serious_infection),
        "ivig": treated & (cohort.draw("ivig") < ae.ivig),
        "bcell_aplasia_days": np.where(treated, aplasia, np.nan),
        "secondary_malignancy": treated
        & (cohort.draw("secondary_malignancy") < ae.secondary_malignancy),
    }
    if second is None:
        columns.update(
            state_path(out["_pre"], out["_post"], t_day, out["response_day"], out["relapse_day"])
        )
        return columns
    columns.update(
        {
            "retreat_response": out["response2"],
            "retreat_response_day": out["response_day2"],
            "retreat_relapse_day": out["relapse_day2"],
            "retreat_trm_death": out["trm_death2"],
        }
    )
    columns.update(
        state_path(
            out["_pre"],
            out["_post"],
            t_day,
            out["response_day"],
            out["relapse_day"],
            (second, out["response_day2"], out["relapse_day2"]),
        )
    )
    return columns


def state_path(
    pre: np.ndarray,
    post: np.ndarray,
    treatment_day: np.ndarray,
    response_day: np.ndarray,
    relapse_day: np.ndarray,
    second: tuple[Second, np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The disease states from referral on, as 2-D columns (one row per patient):
    ``_state_end`` (day each segment ends, in order; NaN: none) and ``_remission`` (whether the
    segment is remission, else active disease). Standard-of-care course ``pre`` until the
    treatment; active from treatment to response, remission to relapse, then the standard-of-care
    course ``post`` (from the treatment for non-responders). With ``second`` (a second
    treatment, its response and relapse days), ``post`` is cut at the second treatment, then
    active to its response, remission to its relapse and the course ``second.post``."""
    n = treatment_day.size
    inf = np.full(n, np.inf)
    cut = np.where(np.isfinite(treatment_day), treatment_day, inf)
    respond_or_treat = np.where(np.isfinite(response_day), response_day, cut)
    relapse = np.where(np.isnan(relapse_day), inf, relapse_day)
    relapse = np.where(np.isfinite(response_day), relapse, respond_or_treat)
    columns = pre.shape[1] + 3 + post.shape[1] + 1
    if second is not None:
        columns += post.shape[1] + 1 + 2
    state_end = np.empty((n, columns))  # filled state by state: no list of columns besides
    remission: list[bool] = []

    def soc(switches: np.ndarray, after: np.ndarray | None, until: np.ndarray | None) -> None:
        """A standard-of-care course (active, remission, ...) from ``after`` to ``until``."""
        at = len(remission)
        block = state_end[:, at : at + switches.shape[1]]
        if after is None:
            block[:] = switches
        else:
            np.fmax(switches, after[:, None], out=block)
        if until is not None:
            np.fmin(block, until[:, None], out=block)
        remission.extend(j % 2 == 1 for j in range(switches.shape[1]))

    def then(end: np.ndarray, in_remission: bool) -> None:
        state_end[:, len(remission)] = end
        remission.append(in_remission)

    soc(pre, None, cut)
    then(cut, False)
    then(respond_or_treat, False)
    then(relapse, True)
    if second is not None:
        plan, response2, relapse2 = second
        t2 = plan.treatment_day
        soc(post, relapse, t2)
        then(np.fmax(t2, relapse), False)
        resp2 = np.where(np.isfinite(response2), response2, t2)
        rel2 = np.where(np.isfinite(response2), np.where(np.isnan(relapse2), inf, relapse2), resp2)
        then(np.fmax(resp2, t2), False)
        then(np.fmax(rel2, t2), True)
        post, relapse = plan.post, np.fmax(rel2, t2)
    soc(post, relapse, None)
    then(inf, False)
    return {
        "_state_end": state_end,
        "_remission": np.broadcast_to(np.asarray(remission), (n, len(remission))),
    }
