"""Checks of the retreatment rules: where relapsing patients are referred again (probabilities).

Each problem is raised as ``ValueError("dotted.field.path: message")`` so that the loader can
name the field and its line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cartsim.inputs.scenario import Scenario

SHARE_TOL = 1e-9


def check_relapse_rules(s: Scenario) -> None:
    """Retreatment arms exist, an arm's shares sum to at most 1, rescue arms are not compared."""
    for name, arm in s.arms.items():
        for k, rule in enumerate(arm.on_relapse):
            if rule.arm not in s.arms:
                raise ValueError(
                    f"arms.{name}.on_relapse.{k}.arm: unknown arm {rule.arm!r} "
                    f"(known: {sorted(s.arms)})"
                )
        total = sum(rule.share for rule in arm.on_relapse)
        if total > 1.0 + SHARE_TOL:
            raise ValueError(f"arms.{name}.on_relapse: the shares sum to {total:.6g}, above 1")
    if not s.compared_arms:
        raise ValueError("arms: every arm is rescue_only; at least one must be compared")
    reference = s.economics.reference_arm if s.economics else None
    if reference is not None and s.arms[reference].rescue_only:
        raise ValueError(f"economics.reference_arm: {reference!r} is rescue_only")
    if s.target is not None and s.arms[s.target.arm].rescue_only:
        raise ValueError(f"target.arm: {s.target.arm!r} is rescue_only, not a compared arm")
    policy = s.referral_policy
    routed = [policy.default, *(r.arm for r in policy.rules)] if policy else []
    for target in routed:
        if s.arms[target].rescue_only:
            raise ValueError(f"referral_policy: {target!r} is rescue_only, not a referral arm")
