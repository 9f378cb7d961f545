"""Stages of a pathway: activity, delay, inpatient stay, treatment and transport, with failure
rules.

Durations are in days, times of day in hours; costs in the scenario's currency and price year.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from cartsim.inputs.fields import (
    MAX_STAGE_DAYS,
    WEEKDAYS,
    NonNegative,
    Probability,
    StageDays,
    Strict,
    Weekday,
)

StageDay = Annotated[float, Field(ge=0.0, le=MAX_STAGE_DAYS)]


class Failure(Strict):
    """After the stage ends: with ``probability`` go back to ``back_to`` (out-of-spec product)."""

    probability: Probability = Field(description="chance the stage fails and is repeated")
    back_to: str = Field(description="the stage (this or an earlier one) to go back to")
    max_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        default=2, description="times the stage may run in all (count)"
    )


class StageBase(Strict):
    """What every stage has: a name, costs, and an optional failure rule."""

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")] = Field(
        description="unique within the arm: letters, digits, _ and -"
    )
    failure: Failure | None = Field(default=None, description="repeat after an out-of-spec product")
    description: str = Field(default="", description="what happens in the stage (text)")
    costs: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], NonNegative] = Field(
        default={},
        description="money by cost category, each time the stage starts",
    )


class Activity(StageBase):
    """Seize a resource for a sampled duration (days), then release it (or, with
    ``hold_until``, keep it booked until a later stage ends)."""

    kind: Literal["activity"] = Field(description="activity: seize a resource for a time")
    resource: str = Field(description="the resource seized (a name in resources)")
    duration: StageDays
    restock_days: StageDays | None = Field(
        default=None,
        description="a stock of doses: the unit taken returns this many days after the start "
        "(when its replacement arrives), not at the end of the stage (days)",
    )
    hold_until: str | None = Field(
        default=None,
        description="a later stage of the arm: the unit stays booked until that stage ends "
        "(a manufacturing slot held through release testing), or until the patient leaves or "
        "a failure sends them back",
    )

    @model_validator(mode="after")
    def _stock_or_booking(self) -> Activity:
        if self.restock_days is not None and self.hold_until is not None:
            raise ValueError("restock_days (a dose taken from a stock) and hold_until (a unit "
                             "booked until a later stage) cannot both be given")  # fmt: skip
        if isinstance(self.restock_days, int | float) and self.restock_days <= 0:
            raise ValueError("restock_days: 0 days puts the dose back at once, so the stock "
                             "never limits anything")  # fmt: skip
        return self


class Delay(StageBase):
    """Time that passes without a limited resource: shipping, QC release, washout (days)."""

    kind: Literal["delay"] = Field(description="delay: time without a limited resource")
    duration: StageDays


class IcuEscalation(Strict):
    """ICU transfer during an inpatient stay, triggered by CRS or ICANS grade."""

    resource: str = Field(description="the ICU resource (a name in resources)")
    duration: StageDays = Field(description="ICU length of stay, days (at most 3650)")
    onset_days: StageDay = Field(
        default=2.0, description="days after the treatment (or admission) ICU transfer starts"
    )
    crs_grade_at_least: Annotated[int, Field(ge=1, le=5)] = Field(
        default=3, description="CRS grade (1-5) from which patients go to the ICU"
    )
    icans_grade_at_least: Annotated[int, Field(ge=1, le=5)] = Field(
        default=3, description="ICANS grade (1-5) from which patients go to the ICU"
    )
    probability: Probability = Field(
        default=0.0, description="chance of ICU escalation whatever the CRS/ICANS grade"
    )
    cost_per_day: NonNegative = Field(default=0.0, description="money per ICU day")


class Inpatient(StageBase):
    """A bed for a length of stay (days), lengthened by CRS grade, with ICU escalation."""

    kind: Literal["inpatient"] = Field(description="inpatient: a bed for a length of stay")
    resource: str = Field(description="the bed resource (a name in resources)")
    duration: StageDays
    extra_days_per_crs_grade: StageDay = Field(
        default=0.0, description="days added to the stay per CRS grade"
    )
    icu: IcuEscalation | None = Field(default=None, description="ICU transfer during the stay")
    cost_per_day: NonNegative = Field(default=0.0, description="money per day in hospital")
    treatment_day: StageDay | None = Field(
        default=None,
        description="the arm's treatment acts this many days into the stay (lymphodepletion or "
        "conditioning in hospital first): the bed is booked before the treatment starts",
    )


class Treatment(StageBase):
    """The moment the therapy acts (infusion, transplant); outcomes are sampled from here."""

    kind: Literal["treatment"] = Field(description="treatment: the therapy acts (no time)")


class Transport(StageBase):
    """A courier leg between the sites of two resources, taken only when they differ.

    ``from`` and ``to`` name resources; each resolves, for the patient's site, to that site's own
    resource or the national one (:mod:`cartsim.inputs.sites`), and the leg applies only when the
    two are at different places (a central facility: yes; a device at the centre: no). A
    shipment ready by ``cut_off_hour`` on a dispatch day is collected at that hour; one ready
    later waits for the cut-off of the next dispatch day. The ``duration`` runs from collection
    to delivery; ``costs`` are charged per shipment (each time the leg starts).
    """

    kind: Literal["transport"] = Field(description="transport: a courier leg between sites")
    origin: str = Field(alias="from", description="resource the shipment leaves from (a name)")
    destination: str = Field(alias="to", description="resource the shipment goes to (a name)")
    duration: StageDays = Field(description="days from collection to delivery")
    dispatch_days: Annotated[list[Weekday], Field(min_length=1)] = Field(
        default=list(WEEKDAYS[:5]), description="weekdays the courier collects (mon..sun)"
    )
    cut_off_hour: Annotated[float, Field(ge=0.0, le=24.0)] = Field(
        default=12.0,
        description="hour of the day (0-24) the courier collects: a shipment ready later waits "
        "for the next dispatch day",
    )

    @model_validator(mode="after")
    def _a_real_leg(self) -> Transport:
        if self.origin == self.destination:
            raise ValueError(f"to: the leg goes from {self.origin!r} to itself: it is never taken")
        if len(set(self.dispatch_days)) < len(self.dispatch_days):
            raise ValueError(f"dispatch_days: a weekday is given twice ({self.dispatch_days})")
        return self

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumped with ``from`` and ``to``, as a scenario file writes them."""
        data: dict[str, Any] = handler(self)
        names = {"origin": "from", "destination": "to"}
        return {names.get(k, k): v for k, v in data.items()}


Stage = Annotated[Activity | Delay | Inpatient | Treatment | Transport, Field(discriminator="kind")]
