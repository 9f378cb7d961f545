"""The scenario file: pydantic models of every field, with units, and their validation.

A scenario describes demand (referrals per disease), resources (capacity and opening calendar),
the arms (each a list of stages), waiting hazards, the clinical course and costs, and the run
settings. Units are in the field names or docstrings: days, per year, money of the scenario's
``currency`` and ``price_year`` (:mod:`cartsim.inputs.money`).
Stages are in :mod:`cartsim.inputs.stages`, the clinical course in :mod:`cartsim.inputs.clinical`.
Reading YAML, ``extends:`` and ``--set`` overrides live in :mod:`cartsim.inputs.loading`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from cartsim.inputs.budget import check_budget
from cartsim.inputs.capacity import Calendar, Resource
from cartsim.inputs.clinical import (
    AdverseEvents,
    ArmEconomics,
    DiseaseCourse,
    DiseaseOutcome,
    Economics,
    Mortality,
    RelapseRule,
    UnitCosts,
)
from cartsim.inputs.distributions import DistSpec
from cartsim.inputs.fields import (
    MAX_AGE_YEARS,
    MAX_HORIZON_DAYS,
    AgeYears,
    Date,
    Days,
    NonNegative,
    Positive,
    Probability,
    Strict,
)
from cartsim.inputs.money import Currency, Money, PriceYear
from cartsim.inputs.references import check_references
from cartsim.inputs.relapse_rules import check_relapse_rules
from cartsim.inputs.scenario_analyses import ScenarioAnalysis, check_analysis_paths
from cartsim.inputs.sites import Site, check_sites
from cartsim.inputs.stages import Stage, Treatment
from cartsim.inputs.threshold_prices import ThresholdPrices, check_threshold_prices


class Parameter(Strict):
    """One evidence value with its source and its distribution for probabilistic analysis."""

    value: float = Field(description="the value, in the parameter's unit")
    unit: str = Field(description="unit of value, low and high (text)")
    description: str = Field(default="", description="what the value is (text)")
    source: str = Field(description="where the value comes from (authors, journal, year)")
    status: Literal["F", "F2", "B", "M", "E"] = Field(
        description="F found, F2 secondary, B press, M unverified, E estimate"
    )
    estimate: bool = Field(default=False, description="true when the value is an estimate")
    evidence: str | None = Field(default=None, description="the evidence: n/N, mean and SD (text)")
    psa: DistSpec | None = Field(default=None, description="distribution of the value, in its unit")
    low: float | None = Field(
        default=None, description="one-way sensitivity low value, in its unit"
    )
    high: float | None = Field(
        default=None, description="one-way sensitivity high value, in its unit"
    )
    note: str | None = Field(default=None, description="remarks (text)")
    currency: Currency | None = Field(
        default=None,
        description="money only: ISO code of the currency of value, low, high and psa "
        "(default: the scenario's money.currency)",
    )
    price_year: PriceYear | None = Field(
        default=None,
        description="money only: year whose prices value, low, high and psa are in "
        "(default: the scenario's money.price_year)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and self.high is not None and not self.low <= self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def sensitivity_range(self) -> tuple[float, float] | None:
        """Low/high for one-way sensitivity: explicit bounds, else the PSA 95% interval."""
        if self.low is not None and self.high is not None:
            return (self.low, self.high)
        if self.psa is not None:
            return self.psa.interval(0.95)
        return None


class RunSettings(Strict):
    """Run length, replications and seed. Day 0 is ``start_date``."""

    start_date: Date = Field(default=dt.date(2026, 1, 5), description="calendar date of day 0")
    arrival_window_days: Annotated[float, Field(gt=0.0, le=MAX_HORIZON_DAYS)] = Field(
        default=730.0,
        description=f"days during which patients are referred, at most {MAX_HORIZON_DAYS:g}",
    )
    horizon_days: Annotated[float, Field(gt=0.0, le=MAX_HORIZON_DAYS)] = Field(
        default=1095.0,
        description=f"days simulated, at most {MAX_HORIZON_DAYS:g} (one hundred years)",
    )
    warmup_days: Days = Field(default=0.0, description="days at the start left out of the KPIs")
    replications: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=10, description="independent replications (count)"
    )
    seed: Annotated[int, Field(ge=0, lt=2**63)] = Field(default=20240221, description="master seed")
    memory_limit_gb: Positive | None = Field(
        default=None,
        description="GiB a run may use (default: the machine's physical memory); scenarios "
        "estimated to need more are refused before they start",
    )

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

    rate_per_year: NonNegative | Annotated[list[NonNegative], Field(min_length=1)] = Field(
        description="referrals per year; a list gives one rate per successive year of the "
        "arrival window and must have one rate for each (started) year of it"
    )
    age: AgeYears = Field(description="age at referral, years (a non-negative distribution)")
    female: Probability = Field(default=0.5, description="share of referred patients who are women")
    flags: dict[str, Probability] = Field(
        default={}, description="share of patients with each named feature (lung_involvement: 0.35)"
    )


class Eligibility(Strict):
    """Who may enter an arm: diseases, an age limit, and the chance of failing screening."""

    diseases: list[str] | None = Field(default=None, description="diseases treated (default: all)")
    max_age: Annotated[float, Field(gt=0.0, le=MAX_AGE_YEARS)] | None = Field(
        default=None, description="oldest age at referral treated, years"
    )
    screen_fail: Probability = Field(
        default=0.0, description="share of referred patients found ineligible at screening"
    )


class Arm(Strict):
    """A pathway: stages in order, who is eligible, and its adverse events."""

    label: str = Field(default="", description="name shown in reports (text)")
    stages: Annotated[list[Stage], Field(min_length=1)] = Field(
        description="the stages in order; each has a kind: activity, delay, inpatient, treatment"
    )
    eligibility: Eligibility = Field(default=Eligibility(), description="who may enter the arm")
    adverse_events: AdverseEvents = Field(
        default=AdverseEvents(), description="probabilities and days"
    )
    outcomes: dict[str, DiseaseOutcome] = Field(
        default={}, description="per disease; a disease not listed gets no response"
    )
    economics: ArmEconomics = Field(
        default=ArmEconomics(), description="costs (money) and utility effects"
    )
    vein_to_vein_from: str | None = Field(
        default=None, description="stage whose first start begins vein-to-vein time (to treatment)"
    )
    on_relapse: list[RelapseRule] = Field(
        default=[], description="where relapsing patients are referred again, with probabilities"
    )
    rescue_only: bool = Field(
        default=False, description="true: only a retreatment after relapse, not a compared arm"
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
                    f"stages.{stage.name}.failure.back_to: {stage.failure.back_to!r} must name "
                    "this or an earlier stage"
                )
            hold = getattr(stage, "hold_until", None)
            if hold is not None and hold not in names[i + 1 :]:
                raise ValueError(
                    f"stages.{stage.name}.hold_until: {hold!r} must name a later stage"
                )
        if self.vein_to_vein_from and self.vein_to_vein_from not in names:
            raise ValueError(f"vein_to_vein_from: {self.vein_to_vein_from!r} is not a stage")
        return self


class PlanningTarget(Strict):
    """What a capacity sweep must achieve, e.g. 90th-centile vein-to-vein <= 35 days."""

    metric: str = Field(description="a KPI name of kpis.parquet, e.g. p90_vein_to_vein_days")
    arm: str = Field(description="the arm whose KPI is judged")
    at_most: float | None = Field(
        default=None, description="upper bound, in the unit of the metric"
    )
    at_least: float | None = Field(
        default=None, description="lower bound, in the unit of the metric"
    )
    per_year: bool = Field(
        default=False,
        description="judge the metric of the patients referred in each year of the run; "
        "the worst year counts (true/false)",
    )

    @model_validator(mode="after")
    def _one_bound(self) -> PlanningTarget:
        if (self.at_most is None) == (self.at_least is None):
            raise ValueError("give exactly one of at_most and at_least")
        return self


PerDay = Annotated[float, Field(ge=0.0, le=1.0)]


class Waiting(Strict):
    """Hazards while waiting for treatment (referral to treatment), per day, by disease."""

    death_hazard_per_day: dict[str, PerDay] | PerDay = Field(
        default=0.0, description="deaths per patient-day waiting; one value or one per disease"
    )
    dropout_hazard_per_day: dict[str, PerDay] | PerDay = Field(
        default=0.0, description="dropouts per patient-day waiting; one value or one per disease"
    )

    def hazard(self, which: Literal["death", "dropout"], disease: str) -> float:
        """Daily hazard of ``which`` for ``disease`` (0 when the disease is not listed)."""
        value = self.death_hazard_per_day if which == "death" else self.dropout_hazard_per_day
        return value.get(disease, 0.0) if isinstance(value, dict) else value


class RoutingRule(Strict):
    """Send matching patients to ``arm``: disease in ``diseases`` and every flag in ``flags``.

    ``share`` is the probability that a matching patient takes this route. The shares of all
    rules a patient matches must sum to at most 1; the rest go to the policy's ``default``. For
    example, rules ``{arm: ahsct, diseases: [SSc], share: 0.3}`` and ``{arm: trial, diseases:
    [SSc], share: 0.2}`` send 30% of SSc patients to aHSCT, 20% to the trial and 50% to the
    default arm.
    """

    arm: str = Field(description="the arm matching patients are sent to")
    diseases: list[str] | None = Field(default=None, description="diseases matched (default: all)")
    flags: list[str] = Field(default=[], description="features a patient must all have to match")
    share: Probability = Field(
        default=1.0,
        description="probability that a matching patient takes this route; the shares of the "
        "rules one patient matches sum to at most 1",
    )


class ReferralPolicy(Strict):
    """Service mix: each patient takes one matching rule's route with its share, else default."""

    rules: list[RoutingRule] = Field(default=[], description="routes, each with its probability")
    default: str = Field(description="arm of patients no rule routes")


class Scenario(Strict):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1)] = Field(description="scenario name (text)")
    description: str = Field(default="", description="what the scenario is (text)")
    currency: Currency = Field(
        default="EUR",
        description="currency (ISO code) of every amount of money the model uses and reports; "
        "money parameters are converted to it",
    )
    price_year: PriceYear = Field(
        default=2024,
        description="year whose prices every amount of money the model uses and reports is in",
    )
    money: Money = Field(
        default=Money(), description="conversion of money parameters to currency and price_year"
    )
    run: RunSettings = Field(
        default=RunSettings(), description="run length (days), replications, seed"
    )
    demand: dict[str, DiseaseDemand] = Field(description="referrals per disease (per year)")
    calendars: dict[str, Calendar] = Field(
        default={}, description="named calendars that resources refer to by name"
    )
    resources: dict[str, Resource] = Field(
        default={}, description="limited resources by name (shared nationally when there are sites)"
    )
    sites: dict[str, Site] = Field(
        default={}, description="treatment centres: catchment shares and resources of their own"
    )
    waiting: Waiting = Field(default=Waiting(), description="hazards per day while waiting")
    arms: Annotated[dict[str, Arm], Field(min_length=1)] = Field(
        description="pathways compared, by name"
    )
    comparison: Literal["head_to_head", "service_mix"] = Field(
        default="head_to_head",
        description="head_to_head: every arm treats the whole cohort on resources of its own; "
        "service_mix: referral_policy sends each patient to one arm and arms share resources",
    )
    referral_policy: ReferralPolicy | None = Field(
        default=None, description="service mix: which arm each patient is sent to (probabilities)"
    )
    economics: Economics | None = Field(
        default=None, description="horizon (years), discounting, WTP"
    )
    mortality: Mortality | None = Field(default=None, description="general-population mortality")
    disease_course: dict[str, DiseaseCourse] = Field(
        default={}, description="utilities and yearly costs (money) of each disease's states"
    )
    unit_costs: UnitCosts = Field(default=UnitCosts(), description="money per unit of AE treatment")
    target: PlanningTarget | None = Field(
        default=None, description="what a capacity sweep must meet"
    )
    targets: list[PlanningTarget] = Field(
        default=[], description="further targets a capacity sweep must meet, all at once"
    )
    parameters: dict[str, Parameter] = Field(
        default={}, description='evidence values referred to as "@name", each with unit and source'
    )
    scenario_analyses: dict[str, ScenarioAnalysis] = Field(
        default={}, description="named overrides of the base case that `cartsim scenarios` runs"
    )
    threshold_prices: ThresholdPrices | None = Field(
        default=None, description="arms whose price `cartsim run` finds the threshold of"
    )

    @model_validator(mode="before")
    @classmethod
    def _analysis_paths(cls, data: Any, info: ValidationInfo) -> Any:
        # the paths depend on the scenario's structure, not on its values: checked with the
        # base case, not again for each draw of its parameters
        if isinstance(data, dict) and (info.context or {}).get("base_case", True):
            check_analysis_paths(data)
        return data

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        check_references(self)
        check_sites(self)
        eco = self.economics
        if (
            eco is not None
            and eco.severity_modifier
            and (eco.reference_arm is None or self.mortality is None)
        ):
            raise ValueError("economics.severity_modifier: needs economics.reference_arm "
                                 "(current practice) and mortality")  # fmt: skip
        check_budget(self)
        return self

    @model_validator(mode="after")
    def _relapse_rules(self) -> Scenario:
        check_relapse_rules(self)
        check_threshold_prices(self)
        return self

    @property
    def planning_targets(self) -> list[PlanningTarget]:
        """``target`` and ``targets`` together: what a capacity sweep must meet, all at once."""
        return [*([self.target] if self.target is not None else []), *self.targets]

    @property
    def diseases(self) -> list[str]:
        return list(self.demand)

    @property
    def compared_arms(self) -> list[str]:
        """Arms that treat referred patients (all but the rescue-only ones)."""
        return [name for name, arm in self.arms.items() if not arm.rescue_only]
