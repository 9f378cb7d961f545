"""Service mix: which arm each referred patient is sent to by the referral policy."""

from __future__ import annotations

import numpy as np

from cartsim.engine.cohort import Cohort
from cartsim.inputs.scenario import Scenario


def route(scenario: Scenario, cohort: Cohort) -> np.ndarray:
    """Service mix: the index (into ``scenario.arms``) of each patient's arm.

    Each rule's ``share`` is the probability that a patient it matches takes its route: one
    uniform per patient is compared with the running sum of the shares of the rules that patient
    matches (which validation keeps at most 1), and the rest go to the default arm.
    """
    policy = scenario.referral_policy
    assert policy is not None
    names = list(scenario.arms)
    arm_of = np.full(cohort.size, names.index(policy.default))
    below = np.zeros(cohort.size)  # running sum of the shares of the rules each patient matches
    u = cohort.draw("routing")
    for rule in policy.rules:
        matches = np.ones(cohort.size, dtype=bool)
        if rule.diseases is not None:
            matches &= np.isin(cohort.disease, [scenario.diseases.index(d) for d in rule.diseases])
        for flag in rule.flags:
            matches &= cohort.flags[flag]
        chosen = matches & (u >= below) & (u < below + rule.share)
        arm_of[chosen] = names.index(rule.arm)
        below = np.where(matches, below + rule.share, below)
    return arm_of
