"""The scenario file: pydantic models of every field, with units, and their validation.

A scenario describes demand (referrals per disease), resources (capacity and opening calendar),
the arms (each a list of stages), waiting hazards, the clinical course and costs, and the run
settings. Units are in the field names or docstrings: days, per year, EUR of ``price_year``.
Stages are in :mod:`cartsim.inputs.stages`, the clinical course in :mod:`cartsim.inputs.clinical`.
Reading YAML, ``extends:`` and ``--set`` overrides live in :mod:`cartsim.inputs.loading`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from cartsim.inputs.clinical import (
    AdverseEvents,
    ArmEconomics,
    DiseaseCourse,
    DiseaseOutcome,
    Economics,
    Mortality,
    UnitCosts,
)
from cartsim.inputs.distributions import DistSpec
from cartsim.inputs.fields import (
    WEEKDAYS,
    Days,
    NonNegative,
    NumberOrDist,
    Positive,
    Probability,
    Strict,
    Weekday,
)
from cartsim.inputs.stages import Stage, Treatment


class Parameter(Strict):
    """One evidence value with its source and its distribution for probabilistic analysis."""

    value: float
    unit: str
    description: str = ""
    source: str
    status: Literal["F", "F2", "B", "M", "E"]
    estimate: bool = False
    evidence: str | None = None
    psa: DistSpec | None = None
    low: float | None = None
    high: float | None = None
    note: str | None = None

    def sensitivity_range(self) -> tuple[float, float] | None:
        """Low/high for one-way sensitivity: explicit bounds, else the PSA 95% interval."""
        if self.low is not None and self.high is not None:
            return (self.low, self.high)
        if self.psa is not None:
            return self.psa.interval(0.95)
        return None


class RunSettings(Strict):
    """Run length, replications and seed. Day 0 is ``start_date``."""

    start_date: dt.date = dt.date(2026, 1, 5)
    arrival_window_days: Positive = 730.0
    horizon_days: Positive = 1095.0
    warmup_days: Days = 0.0
    replications: Annotated[int, Field(ge=1, le=100_000)] = 10
    seed: Annotated[int, Field(ge=0)] = 20240221

    @model_validator(mode="after")
    def _ordered(self) -> RunSettings:
        if self.arrival_window_days > self.horizon_days:
            raise ValueError(
                f"arrival_window_days ({self.arrival_window_days}) must not exceed "
                f"horizon_days ({self.horizon_days})"
            )
        if self.warmup_days >= self.arrival_window_days:
            raise ValueError("warmup_days must be shorter than arrival_window_days")
        return self


class DiseaseDemand(Strict):
    """Referrals of one disease: a Poisson stream and the referred patients' attributes."""

    rate_per_year: NonNegative | list[NonNegative] = Field(
        description="referrals per year; a list gives one rate per successive year"
    )
    age: NumberOrDist = Field(description="age at referral, years")
    female: Probability = 0.5
    flags: dict[str, Probability] = Field(
        default={}, description="share of patients with each named feature (lung_involvement: 0.35)"
    )


class Calendar(Strict):
    """When a resource can start serving: weekdays, daily hours and closed dates."""

    open_days: list[Weekday] = list(WEEKDAYS)
    hours: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]] = (
        0.0,
        24.0,
    )
    closed_dates: list[dt.date] = []

    @model_validator(mode="after")
    def _sane(self) -> Calendar:
        if not self.open_days:
            raise ValueError("open_days must name at least one weekday")
        if self.hours[0] >= self.hours[1]:
            raise ValueError(f"hours must open before they close, got {list(self.hours)}")
        return self


class Resource(Strict):
    """A limited resource (apheresis chairs, manufacturing slots, beds, ICU beds)."""

    capacity: Annotated[int, Field(ge=1)] | Literal["unlimited"]
    calendar: Calendar = Calendar()
    description: str = ""
    cost_per_unit_per_year: NonNegative = Field(
        default=0.0, description="fixed cost of one unit of capacity, EUR a year (for sweeps)"
    )


class Eligibility(Strict):
    """Who may enter an arm: diseases, an age limit, and the chance of failing screening."""

    diseases: list[str] | None = None
    max_age: Positive | None = None
    screen_fail: Probability = Field(
        default=0.0, description="share of referred patients found ineligible at screening"
    )


class Arm(Strict):
    """A pathway: stages in order, who is eligible, and its adverse events."""

    label: str = ""
    stages: Annotated[list[Stage], Field(min_length=1)]
    eligibility: Eligibility = Eligibility()
    adverse_events: AdverseEvents = AdverseEvents()
    outcomes: dict[str, DiseaseOutcome] = Field(
        {}, description="per disease; a disease not listed gets no response"
    )
    economics: ArmEconomics = ArmEconomics()
    vein_to_vein_from: str | None = Field(
        None, description="stage whose first start begins vein-to-vein time (to treatment)"
    )

    @model_validator(mode="after")
    def _stages_consistent(self) -> Arm:
        names = [s.name for s in self.stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique, repeated: {dupes}")
        treatments = sum(
            isinstance(s, Treatment) or getattr(s, "treatment_day", None) is not None
            for s in self.stages
        )
        if treatments > 1:
            raise ValueError("an arm has at most one treatment (stage or inpatient treatment_day)")
        for i, stage in enumerate(self.stages):
            if stage.failure and stage.failure.back_to not in names[: i + 1]:
                raise ValueError(
                    f"stage {stage.name!r}: failure.back_to {stage.failure.back_to!r} "
                    "must name this or an earlier stage"
                )
        if self.vein_to_vein_from and self.vein_to_vein_from not in names:
            raise ValueError(f"vein_to_vein_from {self.vein_to_vein_from!r} is not a stage")
        return self


class PlanningTarget(Strict):
    """What a capacity sweep must achieve, e.g. 90th-centile vein-to-vein <= 35 days."""

    metric: str = Field(description="a KPI name of kpis.parquet, e.g. p90_vein_to_vein_days")
    arm: str
    at_most: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> PlanningTarget:
        if (self.at_most is None) == (self.at_least is None):
            raise ValueError("give exactly one of at_most and at_least")
        return self


class Waiting(Strict):
    """Hazards while waiting for treatment (referral to treatment), per day, by disease."""

    death_hazard_per_day: dict[str, NonNegative] | NonNegative = 0.0
    dropout_hazard_per_day: dict[str, NonNegative] | NonNegative = 0.0

    def hazard(self, which: Literal["death", "dropout"], disease: str) -> float:
        """Daily hazard of ``which`` for ``disease`` (0 when the disease is not listed)."""
        value = self.death_hazard_per_day if which == "death" else self.dropout_hazard_per_day
        return value.get(disease, 0.0) if isinstance(value, dict) else value


class RoutingRule(Strict):
    """Send matching patients to ``arm``: disease in ``diseases`` and every flag in ``flags``."""

    arm: str
    diseases: list[str] | None = None
    flags: list[str] = []
    share: Probability = Field(default=1.0, description="fraction of matching patients sent")


class ReferralPolicy(Strict):
    """Service mix: the first matching rule decides a patient's arm, else ``default``."""

    rules: list[RoutingRule] = []
    default: str


class Scenario(Strict):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    currency: str = "EUR"
    price_year: Annotated[int, Field(ge=1990, le=2100)] = 2024
    run: RunSettings = RunSettings()
    demand: dict[str, DiseaseDemand]
    resources: dict[str, Resource] = {}
    waiting: Waiting = Waiting()
    arms: Annotated[dict[str, Arm], Field(min_length=1)]
    comparison: Literal["head_to_head", "service_mix"] = Field(
        default="head_to_head",
        description="head_to_head: every arm treats the whole cohort on resources of its own; "
        "service_mix: referral_policy sends each patient to one arm and arms share resources",
    )
    referral_policy: ReferralPolicy | None = None
    economics: Economics | None = None
    mortality: Mortality | None = None
    disease_course: dict[str, DiseaseCourse] = {}
    unit_costs: UnitCosts = UnitCosts()
    target: PlanningTarget | None = None
    parameters: dict[str, Parameter] = {}

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        for arm_name, arm in self.arms.items():
            for stage in arm.stages:
                used = [getattr(stage, "resource", None)]
                icu = getattr(stage, "icu", None)
                used.append(icu.resource if icu else None)
                for res in used:
                    if res is not None and res not in self.resources:
                        raise ValueError(
                            f"arms.{arm_name}.stages.{stage.name}: unknown resource {res!r} "
                            f"(known: {sorted(self.resources)})"
                        )
            for disease in [*(arm.eligibility.diseases or []), *arm.outcomes]:
                if disease not in self.demand:
                    raise ValueError(
                        f"arms.{arm_name}.eligibility: unknown disease {disease!r} "
                        f"(known: {sorted(self.demand)})"
                    )
        self._check_policy()
        if self.target is not None and self.target.arm not in self.arms:
            raise ValueError(f"target: unknown arm {self.target.arm!r}")
        reference = self.economics.reference_arm if self.economics else None
        if reference is not None and reference not in self.arms:
            raise ValueError(f"economics.reference_arm: unknown arm {reference!r}")
        if self.economics is not None:
            missing = [d for d in self.demand if d not in self.disease_course]
            if missing:
                raise ValueError(f"disease_course: economics needs values for {missing}")
        if self.mortality is not None and _any_hazard(self.waiting.death_hazard_per_day):
            raise ValueError(
                "waiting.death_hazard_per_day: with a mortality model, deaths while waiting come "
                "from it (mortality and disease_course.*.smr_active); set the hazard to 0"
            )
        return self

    def _check_policy(self) -> None:
        policy = self.referral_policy
        if self.comparison == "service_mix" and policy is None:
            raise ValueError("referral_policy: a service_mix comparison needs a referral policy")
        if policy is None:
            return
        flags = {f for d in self.demand.values() for f in d.flags}
        for rule in [*policy.rules, RoutingRule(arm=policy.default)]:
            if rule.arm not in self.arms:
                raise ValueError(f"referral_policy: unknown arm {rule.arm!r}")
            unknown = sorted(set(rule.flags) - flags)
            if unknown:
                raise ValueError(
                    f"referral_policy: unknown flags {unknown} (known: {sorted(flags)})"
                )
            for disease in rule.diseases or []:
                if disease not in self.demand:
                    raise ValueError(f"referral_policy: unknown disease {disease!r}")

    @property
    def diseases(self) -> list[str]:
        return list(self.demand)


def _any_hazard(value: dict[str, float] | float) -> bool:
    return any(v > 0 for v in value.values()) if isinstance(value, dict) else value > 0
