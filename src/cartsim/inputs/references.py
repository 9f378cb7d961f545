"""Checks across the fields of a scenario: every name it refers to exists, none is reserved.

Each problem is raised as ``ValueError("dotted.field.path: message")`` so that the loader can
name the field and its line. Units: rates per year, days, probabilities.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from cartsim.inputs.dist_base import U_MAX
from cartsim.inputs.distributions import to_dist
from cartsim.inputs.sites import stage_resources
from cartsim.inputs.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from cartsim.inputs.scenario import Scenario

RESERVED_ARMS = ("service",)  # the name of the merged log of a service mix
RESERVED_COST_CATEGORIES = ("total", "undiscounted")  # columns of the cost tables
MAX_FLAG_COMBINATIONS = 4096
SHARE_TOL = 1e-9


def check_references(s: Scenario) -> None:
    """Raise ``ValueError("field: problem")`` at the first reference that does not resolve."""
    _check_arms(s)
    _check_resources(s)
    _check_demand(s)
    _check_policy(s)
    known = sorted(s.demand)
    for which in ("death_hazard_per_day", "dropout_hazard_per_day"):
        value = getattr(s.waiting, which)
        for disease in value if isinstance(value, dict) else []:
            if disease not in s.demand:
                raise ValueError(f"waiting.{which}.{disease}: unknown disease (known: {known})")
    for disease in s.disease_course:
        if disease not in s.demand:
            raise ValueError(f"disease_course.{disease}: unknown disease (known: {known})")
    if s.target is not None and s.target.arm not in s.arms:
        raise ValueError(f"target.arm: unknown arm {s.target.arm!r} (known: {sorted(s.arms)})")
    reference = s.economics.reference_arm if s.economics else None
    if reference is not None and reference not in s.arms:
        raise ValueError(f"economics.reference_arm: unknown arm {reference!r}")
    if s.economics is not None:
        missing = [d for d in s.demand if d not in s.disease_course]
        if missing:
            raise ValueError(f"disease_course: economics needs values for {missing}")
    if s.mortality is not None and _any_hazard(s.waiting.death_hazard_per_day):
        raise ValueError(
            "waiting.death_hazard_per_day: with a mortality model, deaths while waiting come "
            "from it (mortality and disease_course.*.smr_active); set the hazard to 0"
        )


def _check_resources(s: Scenario) -> None:
    owned = [(f"sites.{site}.resources.{n}", r) for site, spec in s.sites.items()
             for n, r in spec.resources.items()]  # fmt: skip
    for name, resource in [(f"resources.{n}", r) for n, r in s.resources.items()] + owned:
        calendar = resource.calendar
        if isinstance(calendar, str) and calendar not in s.calendars:
            raise ValueError(
                f"{name}.calendar: unknown calendar {calendar!r} (known: {sorted(s.calendars)})"
            )
        flags = {f for d in s.demand.values() for f in d.flags}
        for k, rule in enumerate(resource.priority):
            unknown = sorted({*(rule.diseases or [])} - set(s.demand)) or sorted(
                set(rule.flags) - flags
            )
            if unknown:
                raise ValueError(
                    f"{name}.priority.{k}: unknown disease or flag {unknown[0]!r} "
                    f"(diseases: {sorted(s.demand)}; flags: {sorted(flags)})"
                )
        for change in resource.capacity_changes:
            if change.date <= s.run.start_date:
                raise ValueError(
                    f"{name}.capacity_changes: {change.date} is not after the start "
                    f"date {s.run.start_date} (set the capacity itself instead)"
                )


def _check_arms(s: Scenario) -> None:
    known = sorted({*s.resources, *(n for site in s.sites.values() for n in site.resources)})
    for arm_name, arm in s.arms.items():
        if arm_name in RESERVED_ARMS:
            raise ValueError(f"arms.{arm_name}: the arm name {arm_name!r} is reserved")
        for stage in arm.stages:
            where = f"arms.{arm_name}.stages.{stage.name}"
            for category in stage.costs:
                if category in RESERVED_COST_CATEGORIES:
                    raise ValueError(
                        f"{where}.costs.{category}: the cost category {category!r} is reserved"
                    )
            for key, res in stage_resources(stage):
                if res not in known:
                    raise ValueError(f"{where}.{key}: unknown resource {res!r} (known: {known})")
            _check_stock(s, stage, where)
        for key, diseases in (("eligibility.diseases", arm.eligibility.diseases or []),
                              ("outcomes", list(arm.outcomes))):  # fmt: skip
            for disease in diseases:
                if disease not in s.demand:
                    raise ValueError(
                        f"arms.{arm_name}.{key}: unknown disease {disease!r} "
                        f"(known: {sorted(s.demand)})"
                    )


def _check_stock(s: Scenario, stage: object, where: str) -> None:
    """A dose of a stock comes back no sooner than its stage ends (both given as numbers; a
    distribution is left to the model). An unlimited stock is allowed: doses enough, on purpose."""
    restock = getattr(stage, "restock_days", None)
    if restock is None:
        return
    duration = getattr(stage, "duration", None)
    if (
        isinstance(restock, int | float)
        and isinstance(duration, int | float)
        and restock < duration
    ):
        raise ValueError(
            f"{where}.restock_days: {restock:g} days is shorter than the stage "
            f"({duration:g} days): the dose would be back before it is used"
        )


def _check_demand(s: Scenario) -> None:
    """A yearly rate list has one rate per started year of the arrival window; ages fit."""
    years = 0  # the years the cohort draws referrals for: those starting inside the window
    while years * DAYS_PER_YEAR < s.run.arrival_window_days:
        years += 1
    for disease, demand in s.demand.items():
        rates = demand.rate_per_year
        if isinstance(rates, list) and len(rates) != years:
            raise ValueError(
                f"demand.{disease}.rate_per_year: {len(rates)} yearly rate(s) for an arrival "
                f"window of {s.run.arrival_window_days:g} days ({years} started year(s)); give "
                f"one rate per year"
            )
        if s.mortality is not None:
            oldest = float(to_dist(demand.age).ppf([U_MAX])[0])
            if not oldest < s.mortality.max_age:
                raise ValueError(
                    f"demand.{disease}.age: draws ages up to {oldest:.4g} years, not below "
                    f"mortality.max_age ({s.mortality.max_age:g}); truncate it with high"
                )


def _check_policy(s: Scenario) -> None:
    policy = s.referral_policy
    if s.comparison == "service_mix" and policy is None:
        raise ValueError("referral_policy: a service_mix comparison needs a referral policy")
    if policy is None:
        return
    if policy.default not in s.arms:
        raise ValueError(f"referral_policy.default: unknown arm {policy.default!r}")
    for k, rule in enumerate(policy.rules):
        where = f"referral_policy.rules.{k}"
        if rule.arm not in s.arms:
            raise ValueError(f"{where}.arm: unknown arm {rule.arm!r} (known: {sorted(s.arms)})")
        for disease in rule.diseases or []:
            if disease not in s.demand:
                raise ValueError(f"{where}.diseases: unknown disease {disease!r}")
        flags = {f for d in s.demand.values() for f in d.flags}
        unknown = sorted(set(rule.flags) - flags)
        if unknown:
            raise ValueError(f"{where}.flags: unknown flags {unknown} (known: {sorted(flags)})")
    for disease, demand in s.demand.items():
        names = sorted(demand.flags)
        if 2 ** len(names) > MAX_FLAG_COMBINATIONS:
            raise ValueError(f"demand.{disease}.flags: at most 12 flags per disease")
        for size in range(len(names) + 1):
            for present in itertools.combinations(names, size):
                total = sum(
                    rule.share
                    for rule in policy.rules
                    if (rule.diseases is None or disease in rule.diseases)
                    and set(rule.flags) <= set(present)
                )
                if total > 1.0 + SHARE_TOL:
                    who = f"{disease} patients" + (f" with {', '.join(present)}" if present else "")
                    raise ValueError(
                        f"referral_policy.rules: the shares of the rules matching {who} sum to "
                        f"{total:.6g}, more than 1"
                    )


def _any_hazard(value: dict[str, float] | float) -> bool:
    return any(v > 0 for v in value.values()) if isinstance(value, dict) else value > 0
