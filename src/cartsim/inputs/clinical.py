"""The clinical course and its valuation: adverse events, outcomes per disease, mortality,
disease states, unit costs and the economic settings.

Rates are per year, durations in days, money in the scenario's currency and price year.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, model_validator

from cartsim.inputs.distributions import DistSpec
from cartsim.inputs.fields import (
    MAX_AGE_YEARS,
    MAX_HORIZON_DAYS,
    MAX_STAGE_DAYS,
    Days,
    NonNegative,
    Positive,
    Probability,
    Strict,
    bounded_time,
)

HorizonDays = Annotated[float | DistSpec, bounded_time(MAX_HORIZON_DAYS, "days")]


class GradeRisks(Strict):
    """Probabilities of reaching at least grade 1, 2, 3 and 4 of an adverse event.

    With ``conditional: true`` each of ``grade2_plus``, ``grade3_plus`` and ``grade4_plus`` is
    the probability given the grade below, so independent draws in probabilistic analysis keep
    the grades in order. Otherwise a higher grade's probability is capped at the lower grade's.
    """

    any: Probability = Field(default=0.0, description="probability of grade 1 or higher")
    grade2_plus: Probability = Field(default=0.0, description="probability of grade 2 or higher")
    grade3_plus: Probability = Field(default=0.0, description="probability of grade 3 or higher")
    grade4_plus: Probability = Field(default=0.0, description="probability of grade 4 or higher")
    conditional: bool = Field(
        default=False, description="grade2_plus.. are probabilities given the grade below"
    )

    @model_validator(mode="after")
    def _ordered_in_base_case(self, info: ValidationInfo) -> GradeRisks:
        """Input values must be coherent; drawn values in probabilistic analysis are capped."""
        if (info.context or {}).get("base_case") and not self.conditional:
            risks = [self.any, self.grade2_plus, self.grade3_plus, self.grade4_plus]
            names = ["any", "grade2_plus", "grade3_plus", "grade4_plus"]
            for k in range(1, 4):
                if risks[k] > risks[k - 1]:
                    raise ValueError(
                        f"{names[k]} ({risks[k]}) exceeds {names[k - 1]} ({risks[k - 1]})"
                    )
        return self

    def cumulative(self) -> list[float]:
        """Non-increasing P(grade >= g) for g = 1..4."""
        out, cap = [], 1.0
        for k, p in enumerate((self.any, self.grade2_plus, self.grade3_plus, self.grade4_plus)):
            cap = cap * p if self.conditional and k > 0 else min(cap, p)
            out.append(cap)
        return out


class AdverseEvents(Strict):
    """Adverse events of an arm. CRS, ICANS and LICATS grades are drawn before the inpatient
    stage: CRS and ICANS drive its length and ICU escalation, LICATS of grade 3 or higher (a
    prolonged or new hospital stay) lengthens the stay in which the treatment acts by
    ``licats_grade3_extra_days``; the others act on costs, utility and the report."""

    crs: GradeRisks = Field(default=GradeRisks(), description="cytokine release syndrome by grade")
    icans: GradeRisks = Field(default=GradeRisks(), description="neurotoxicity (ICANS) by grade")
    licats: GradeRisks = Field(
        default=GradeRisks(),
        description="local immune effector cell-associated toxicity syndrome (LICATS) by grade",
    )
    licats_grade3_extra_days: Annotated[float, Field(ge=0.0, le=MAX_STAGE_DAYS)] = Field(
        default=0.0,
        description="inpatient days added by LICATS of grade 3 or higher (prolonged stay), days",
    )
    tocilizumab_from_crs_grade: Annotated[int, Field(ge=1, le=5)] = Field(
        default=2, description="CRS grade (1-5) from which tocilizumab is given"
    )
    tocilizumab_doses: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=1.0, description="doses per treated CRS (count)"
    )
    serious_infection: Probability = Field(
        default=0.0, description="probability of a serious infection"
    )
    ivig: Probability = Field(
        default=0.0, description="probability of hypogammaglobulinaemia needing IVIG"
    )
    ivig_days: Days = Field(default=0.0, description="days of IVIG replacement")
    ivig_dose_fraction: Probability = Field(
        default=1.0, description="share of the unit-cost IVIG dose (ivig_per_year) given"
    )
    bcell_aplasia_days: HorizonDays = Field(
        default=0.0, description="days of B-cell aplasia (a number or a non-negative distribution)"
    )
    secondary_malignancy: Probability = Field(
        default=0.0, description="probability of a malignancy"
    )
    crs_disutility: Probability = Field(
        default=0.0, description="utility lost while CRS lasts (0-1)"
    )
    crs_disutility_days: Days = Field(default=0.0, description="days the CRS disutility lasts")
    icu_disutility_per_day: Probability = Field(
        default=0.0, description="utility lost on each ICU day (0-1)"
    )


class Relapse(Strict):
    """Time from response to relapse, a structural choice.

    ``constant``: exponential, hazard ``hazard_per_year``; ``weibull``: cumulative hazard
    ``(hazard_per_year * t) ** shape`` (t in years); ``mixture_cure``: a share ``cure_fraction``
    never relapses, the rest relapse with the Weibull (``shape`` 1: exponential). The share
    relapse-free ``t`` years after response is ``cure + (1 - cure) * exp(-(hazard * t) ** shape)``.
    """

    model: Literal["constant", "weibull", "mixture_cure"] = Field(
        description="constant hazard, Weibull, or mixture cure (a cured share plus a Weibull)"
    )
    hazard_per_year: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        description="relapse rate (Weibull scale) per year in remission"
    )
    shape: Annotated[float, Field(gt=0.0, le=1e8)] = Field(
        default=1.0, description="Weibull shape (1: exponential; count, no unit)"
    )
    cure_fraction: Probability = Field(
        default=0.0, description="share of responders who never relapse (mixture_cure only)"
    )

    @model_validator(mode="after")
    def _fits_model(self) -> Relapse:
        if self.model == "constant" and self.shape != 1.0:
            raise ValueError("shape: a constant hazard has shape 1 (use model: weibull)")
        if self.model != "mixture_cure" and self.cure_fraction != 0.0:
            raise ValueError("cure_fraction: only a mixture_cure model has a cured share")
        return self


class DiseaseOutcome(Strict):
    """What the treatment stage of an arm does for one disease.

    Relapse is given either by ``relapse`` (a model) or by the shorthand
    ``relapse_hazard_per_year`` and ``relapse_shape`` (a Weibull), not both.
    """

    response: Probability = Field(description="remission or major clinical response")
    response_days: Days = Field(default=90.0, description="treatment to response, days")
    relapse_hazard_per_year: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        default=0.0, description="relapses per patient-year in remission"
    )
    relapse_shape: Annotated[float, Field(gt=0.0, le=1e8)] = Field(
        default=1.0, description="Weibull shape of relapse (1: exponential)"
    )
    relapse: Relapse | None = Field(
        default=None, description="relapse model (rates per year); None: the Weibull shorthand"
    )
    trm: Probability = Field(default=0.0, description="treatment-related mortality")
    trm_window_days: Annotated[float, Field(gt=0.0, le=MAX_STAGE_DAYS)] = Field(
        default=100.0, description="TRM deaths fall uniformly in this"
    )

    @model_validator(mode="after")
    def _one_relapse_model(self) -> DiseaseOutcome:
        shorthand = self.relapse_hazard_per_year != 0.0 or self.relapse_shape != 1.0
        if self.relapse is not None and shorthand:
            raise ValueError("give relapse or relapse_hazard_per_year/relapse_shape, not both")
        return self

    @property
    def relapse_model(self) -> Relapse:
        """The relapse model, the shorthand read as a Weibull."""
        if self.relapse is not None:
            return self.relapse
        return Relapse(
            model="weibull", hazard_per_year=self.relapse_hazard_per_year, shape=self.relapse_shape
        )


class RelapseRule(Strict):
    """On relapse, a share of the arm's relapsing patients is referred again into ``arm``."""

    arm: str = Field(description="the arm relapsing patients are referred to (text)")
    share: Probability = Field(
        description="probability that a relapsing patient takes this route; the shares of an "
        "arm's rules sum to at most 1, the rest stay on standard of care"
    )
    response: Probability | None = Field(
        default=None,
        description="response probability of the retreatment; None: that arm's own (by disease)",
    )


class ArmEconomics(Strict):
    """Costs (money of the scenario's currency and price year) and utility effects of an arm."""

    follow_up_cost_per_year: NonNegative = Field(
        default=0.0, description="money a year of follow-up"
    )
    follow_up_years: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=5.0, description="years of follow-up after treatment"
    )
    follow_up_from_years: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=0.0, description="years after treatment that follow-up costing starts"
    )
    adverse_event_costs: bool = Field(
        default=True,
        description="false: an all-inclusive stage cost already pays adverse-event treatment",
    )
    relapse_cost: NonNegative = Field(
        default=0.0, description="money, one-off treatment of a relapse"
    )
    episode_disutility: Probability = Field(
        default=0.0, description="utility lost during the treatment episode (0-1)"
    )
    episode_disutility_days: Days = Field(
        default=0.0, description="days the episode disutility lasts"
    )


class Gompertz(Strict):
    """General-population mortality hazard ``a * exp(b * age)`` per year (age in years)."""

    a: Positive = Field(description="hazard at age 0, per year")
    b: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="growth of the log hazard per year of age"
    )


class Mortality(Strict):
    """General-population mortality by sex, with an age nobody lives beyond."""

    female: Gompertz = Field(description="women's Gompertz hazard, per year")
    male: Gompertz = Field(description="men's Gompertz hazard, per year")
    max_age: Annotated[float, Field(gt=0.0, le=MAX_AGE_YEARS)] = Field(
        default=100.0, description="nobody lives beyond this age, years"
    )


class DiseaseCourse(Strict):
    """Health-state values of one disease, shared by all arms (money: the scenario's)."""

    utility_active: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        description="utility with active disease (1 = full health, 0 = dead)"
    )
    utility_remission: Annotated[float, Field(ge=-1.0, le=1.0)] | None = Field(
        default=None,
        description="utility in remission (1 = full health); or give utility_gain_in_remission",
    )
    utility_gain_in_remission: NonNegative | None = Field(
        default=None, description="remission utility = active utility + this gain (at most 1)"
    )
    smr_active: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default=1.0, description="standardised mortality ratio with active disease"
    )
    smr_remission: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default=1.0, description="standardised mortality ratio in remission"
    )
    excess_hazard_active_per_year: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=0.0,
        description="deaths per person-year with active disease added to smr_active times the "
        "general-population hazard (additive excess hazard)",
    )
    excess_hazard_remission_per_year: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=0.0,
        description="deaths per person-year in remission added to smr_remission times the "
        "general-population hazard (additive excess hazard)",
    )
    cost_active_per_year: NonNegative = Field(
        default=0.0, description="money a year with active disease: standard-of-care drugs, flares"
    )
    cost_remission_per_year: NonNegative = Field(
        default=0.0, description="money a year in remission"
    )
    remission_prob_per_year: Probability = Field(
        default=0.0, description="chance a year of reaching remission on standard of care"
    )
    relapse_hazard_per_year: NonNegative = Field(
        default=0.0, description="flare hazard from remission reached on standard of care"
    )

    @model_validator(mode="after")
    def _one_remission_utility(self) -> DiseaseCourse:
        if (self.utility_remission is None) == (self.utility_gain_in_remission is None):
            raise ValueError("give one of utility_remission and utility_gain_in_remission")
        return self

    @property
    def remission_utility(self) -> float:
        """Utility in remission: as given, or active utility plus the gain (at most 1)."""
        if self.utility_remission is not None:
            return self.utility_remission
        return min(1.0, self.utility_active + (self.utility_gain_in_remission or 0.0))


class UtilityNorms(Strict):
    """General-population utility by age and sex: ``intercept + male*[male] + age*a + age2*a^2``
    (age in years). State utilities hold at the age of referral and are scaled by the norm's
    ratio as patients age."""

    intercept: float = Field(description="utility at age 0 of a woman (intercept)")
    male: float = Field(default=0.0, description="added for men")
    age: float = Field(default=0.0, description="per year of age")
    age_squared: float = Field(default=0.0, description="per year of age squared")


class UnitCosts(Strict):
    """Unit costs of adverse-event treatment (money of the scenario's currency and price year)."""

    tocilizumab_dose: NonNegative = Field(default=0.0, description="money per tocilizumab dose")
    serious_infection_episode: NonNegative = Field(
        default=0.0, description="money per serious infection"
    )
    ivig_per_year: NonNegative = Field(default=0.0, description="money a year of IVIG replacement")
    secondary_malignancy: NonNegative = Field(
        default=0.0, description="money per secondary malignancy"
    )


class Economics(Strict):
    """Time horizon, discounting and willingness to pay."""

    horizon_years: Annotated[float, Field(gt=0.0, le=MAX_AGE_YEARS)] | None = Field(
        default=20.0, description="years valued after referral; null: lifetime (to max_age)"
    )
    discount_rate_costs: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        default=0.03, description="discount rate of costs, per year"
    )
    discount_rate_effects: Annotated[float, Field(ge=0.0, le=0.2)] = Field(
        default=0.03, description="discount rate of QALYs, per year"
    )
    wtp_per_qaly: NonNegative = Field(
        default=50_000.0, description="willingness to pay, money per QALY"
    )
    wtp_per_qaly_upper: NonNegative | None = Field(
        default=None, description="upper end of a threshold range, money per QALY (shown too)"
    )
    severity_modifier: bool = Field(
        default=False,
        description="weight QALY gains by the NICE severity modifier (PMG36 6.2.16-6.2.20), "
        "from the QALY shortfall of the reference arm (true/false)",
    )
    reference_arm: str | None = Field(
        default=None, description="arm that incremental net benefit is measured against"
    )
    evpi_population_years: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=10.0, description="years of referrals the population EVPI covers"
    )
    perspective: str = Field(default="health-care payer", description="whose costs count (text)")
    utility_age_norms: UtilityNorms | None = Field(
        default=None, description="None: utilities do not change with age"
    )
