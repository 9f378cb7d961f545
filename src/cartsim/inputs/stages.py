"""Stages of a pathway: activity, delay, inpatient stay and treatment, with failure rules.

Durations are in days; costs in the scenario's currency and price year.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cartsim.inputs.fields import Days, NonNegative, NumberOrDist, Probability, Strict


class Failure(Strict):
    """After the stage ends: with ``probability`` go back to ``back_to`` (out-of-spec product)."""

    probability: Probability
    back_to: str
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 2


class StageBase(Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]
    failure: Failure | None = None
    description: str = ""
    costs: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], NonNegative] = Field(
        default={},
        description="EUR (price year) by cost category, each time the stage starts",
    )


class Activity(StageBase):
    """Seize a resource for a sampled duration (days), then release it."""

    kind: Literal["activity"]
    resource: str
    duration: NumberOrDist


class Delay(StageBase):
    """Time that passes without a limited resource: shipping, QC release, washout (days)."""

    kind: Literal["delay"]
    duration: NumberOrDist


class IcuEscalation(Strict):
    """ICU transfer during an inpatient stay, triggered by CRS or ICANS grade."""

    resource: str
    duration: NumberOrDist = Field(description="ICU length of stay, days")
    onset_days: Days = Field(
        default=2.0, description="days after the treatment (or admission) ICU transfer starts"
    )
    crs_grade_at_least: Annotated[int, Field(ge=1, le=5)] = 3
    icans_grade_at_least: Annotated[int, Field(ge=1, le=5)] = 3
    probability: Probability = Field(
        default=0.0, description="chance of ICU escalation whatever the CRS/ICANS grade"
    )
    cost_per_day: NonNegative = Field(default=0.0, description="EUR per ICU day")


class Inpatient(StageBase):
    """A bed for a length of stay (days), lengthened by CRS grade, with ICU escalation."""

    kind: Literal["inpatient"]
    resource: str
    duration: NumberOrDist
    extra_days_per_crs_grade: Days = 0.0
    icu: IcuEscalation | None = None
    cost_per_day: NonNegative = Field(default=0.0, description="EUR per day in hospital")
    treatment_day: Days | None = Field(
        default=None,
        description="the arm's treatment acts this many days into the stay (lymphodepletion or "
        "conditioning in hospital first): the bed is booked before the treatment starts",
    )


class Treatment(StageBase):
    """The moment the therapy acts (infusion, transplant); outcomes are sampled from here."""

    kind: Literal["treatment"]


Stage = Annotated[Activity | Delay | Inpatient | Treatment, Field(discriminator="kind")]
