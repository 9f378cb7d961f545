"""The clinical course and its valuation: adverse events, outcomes per disease, mortality,
disease states, unit costs and the economic settings.

Rates are per year, durations in days, money in the scenario's currency and price year.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, model_validator

from cartsim.inputs.fields import Days, NonNegative, NumberOrDist, Positive, Probability, Strict


class GradeRisks(Strict):
    """Probabilities of reaching at least grade 1, 2, 3 and 4 of an adverse event.

    With ``conditional: true`` each of ``grade2_plus``, ``grade3_plus`` and ``grade4_plus`` is
    the probability given the grade below, so independent draws in probabilistic analysis keep
    the grades in order. Otherwise a higher grade's probability is capped at the lower grade's.
    """

    any: Probability = 0.0
    grade2_plus: Probability = 0.0
    grade3_plus: Probability = 0.0
    grade4_plus: Probability = 0.0
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
    """Adverse events of an arm. CRS and ICANS grades are drawn before the inpatient stage and
    drive its length and ICU escalation; the others act on costs, utility and the report."""

    crs: GradeRisks = GradeRisks()
    icans: GradeRisks = GradeRisks()
    tocilizumab_from_crs_grade: Annotated[int, Field(ge=1, le=5)] = 2
    tocilizumab_doses: NonNegative = 1.0
    serious_infection: Probability = 0.0
    ivig: Probability = Field(default=0.0, description="hypogammaglobulinaemia needing IVIG")
    ivig_days: Days = 0.0
    ivig_dose_fraction: Probability = Field(
        default=1.0, description="share of the unit-cost IVIG dose (ivig_per_year) given"
    )
    bcell_aplasia_days: NumberOrDist = 0.0
    secondary_malignancy: Probability = 0.0
    crs_disutility: NonNegative = Field(default=0.0, description="utility lost while CRS lasts")
    crs_disutility_days: Days = 0.0
    icu_disutility_per_day: NonNegative = 0.0


class DiseaseOutcome(Strict):
    """What the treatment stage of an arm does for one disease."""

    response: Probability = Field(description="remission or major clinical response")
    response_days: Days = Field(default=90.0, description="treatment to response, days")
    relapse_hazard_per_year: NonNegative = 0.0
    relapse_shape: Positive = Field(
        default=1.0, description="Weibull shape of relapse (1: exponential)"
    )
    trm: Probability = Field(default=0.0, description="treatment-related mortality")
    trm_window_days: Positive = Field(
        default=100.0, description="TRM deaths fall uniformly in this"
    )


class ArmEconomics(Strict):
    """Costs (EUR of the price year) and utility effects specific to an arm."""

    follow_up_cost_per_year: NonNegative = 0.0
    follow_up_years: NonNegative = 5.0
    follow_up_from_years: NonNegative = Field(
        default=0.0, description="years after treatment that follow-up costing starts"
    )
    adverse_event_costs: bool = Field(
        default=True,
        description="false: an all-inclusive stage cost already pays adverse-event treatment",
    )
    relapse_cost: NonNegative = Field(default=0.0, description="one-off treatment of a relapse")
    episode_disutility: NonNegative = 0.0
    episode_disutility_days: Days = 0.0


class Gompertz(Strict):
    """General-population mortality hazard ``a * exp(b * age)`` per year (age in years)."""

    a: Positive
    b: Positive


class Mortality(Strict):
    female: Gompertz
    male: Gompertz
    max_age: Positive = Field(default=100.0, description="nobody lives beyond this age, years")


class DiseaseCourse(Strict):
    """Health-state values of one disease, shared by all arms (EUR of the price year)."""

    utility_active: Annotated[float, Field(le=1.0)]
    utility_remission: Annotated[float, Field(le=1.0)] | None = Field(
        default=None, description="or utility_gain_in_remission"
    )
    utility_gain_in_remission: NonNegative | None = Field(
        default=None, description="remission utility = active utility + this gain (at most 1)"
    )
    smr_active: Positive = 1.0
    smr_remission: Positive = 1.0
    cost_active_per_year: NonNegative = Field(
        default=0.0, description="standard-of-care drugs, flares"
    )
    cost_remission_per_year: NonNegative = 0.0
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

    intercept: float
    male: float = 0.0
    age: float = 0.0
    age_squared: float = 0.0


class UnitCosts(Strict):
    """Unit costs of adverse-event treatment (EUR of the price year)."""

    tocilizumab_dose: NonNegative = 0.0
    serious_infection_episode: NonNegative = 0.0
    ivig_per_year: NonNegative = 0.0
    secondary_malignancy: NonNegative = 0.0


class Economics(Strict):
    """Time horizon, discounting and willingness to pay."""

    horizon_years: Positive | None = Field(default=20.0, description="None: lifetime (to max_age)")
    discount_rate_costs: Annotated[float, Field(ge=0.0, le=0.2)] = 0.03
    discount_rate_effects: Annotated[float, Field(ge=0.0, le=0.2)] = 0.03
    wtp_per_qaly: NonNegative = Field(default=50_000.0, description="EUR per QALY")
    reference_arm: str | None = Field(
        default=None, description="arm that incremental net benefit is measured against"
    )
    evpi_population_years: NonNegative = Field(
        default=10.0, description="years of referrals the population EVPI covers"
    )
    perspective: str = "health-care payer"
    utility_age_norms: UtilityNorms | None = Field(
        default=None, description="None: utilities do not change with age"
    )
