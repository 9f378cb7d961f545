"""Field types of the scenario file, with their units, and the strict base model.

Units are in the type names: days, probabilities, non-negative amounts (money in the scenario's
currency and price year, rates per year).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cartsim.inputs.distributions import DistSpec

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


NonNegative = Annotated[float, Field(ge=0.0)]


Positive = Annotated[float, Field(gt=0.0)]


Days = Annotated[float, Field(ge=0.0, description="days")]


NumberOrDist = Annotated[float, Field()] | DistSpec


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base model: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
