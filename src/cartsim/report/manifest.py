"""The schema of a run folder's ``manifest.json`` as the report reads it.

A run folder may come from someone else, so its manifest is untrusted input: it is validated here
before the report uses it, and a manifest that does not fit raises :class:`CartsimError` with one
line naming the file and the field. Only the fields the report reads are typed; other fields are
kept as they are (``extra="allow"``). Validation fixes the shape (a mapping where the report
iterates a mapping, a list where it iterates a list); the text itself is escaped by the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cartsim.inputs.errors import CartsimError
from cartsim.report.results import read_manifest

Scalar = str | int | float | bool | None


class Open(BaseModel):
    """A part of the manifest: the report's fields typed, any other field kept as is."""

    model_config = ConfigDict(extra="allow")


class Spec(Open):
    """A distribution spec: ``dist`` and its arguments (any names)."""

    dist: str


Value = Spec | Scalar | list[Scalar]


class Calendar(Open):
    open_days: list[Scalar] = []
    hours: list[Scalar] = []


class Resource(Open):
    capacity: Scalar = None
    calendar: Calendar | str | None = None  # a text: the name of one in calendars
    description: Scalar = None


class Failure(Open):
    probability: Scalar = None
    back_to: Scalar = None
    max_attempts: Scalar = None


class Icu(Open):
    resource: Scalar = None
    crs_grade_at_least: Scalar = None
    icans_grade_at_least: Scalar = None
    probability: Scalar = None
    duration: Value = None


class Stage(Open):
    name: Scalar = None
    kind: Scalar = None
    resource: Scalar = None
    duration: Value = None
    treatment_day: Scalar = None
    costs: dict[str, Scalar] = {}
    failure: Failure | None = None
    icu: Icu | None = None


class Outcome(Open):
    response: Scalar = None
    response_days: Scalar = None
    relapse_hazard_per_year: Scalar = None
    trm: Scalar = None


class Arm(Open):
    label: Scalar = None
    stages: list[Stage] = []
    outcomes: dict[str, Outcome] = {}


class Demand(Open):
    rate_per_year: Scalar | list[Scalar] = None  # a list: one rate per year
    age: Value = None
    female: Scalar = None


class Waiting(Open):
    death_hazard_per_day: Scalar | dict[str, Scalar] = None
    dropout_hazard_per_day: Scalar | dict[str, Scalar] = None


class Run(Open):
    start_date: Scalar = None
    arrival_window_days: Scalar = None
    horizon_days: float | None = None
    warmup_days: float = 0.0
    replications: Scalar = None
    seed: Scalar = None


class Economics(Open):
    horizon_years: float | None = None
    discount_rate_costs: float | None = None
    discount_rate_effects: float | None = None
    wtp_per_qaly: float | None = None
    perspective: Scalar = None


class Parameter(Open):
    value: Value | dict[str, Scalar] = None
    unit: Scalar = None
    description: Scalar = None
    source: Scalar = None
    status: Scalar = None
    estimate: Scalar = None
    psa: Spec | None = None


class Scenario(Open):
    name: Scalar = "run"
    description: Scalar = None
    currency: Scalar = "EUR"
    price_year: Scalar = None
    run: Run = Run()
    demand: dict[str, Demand] = {}
    resources: dict[str, Resource] = {}
    waiting: Waiting = Waiting()
    arms: dict[str, Arm] = {}
    economics: Economics | None = None
    mortality: Any = None
    parameters: dict[str, Parameter] = {}


class Manifest(Open):
    cartsim_version: Scalar = None
    scenario_files: dict[str, Scalar] = {}
    seed: Scalar = None
    replications: Scalar = None
    command_line: list[Scalar] = []
    started: Scalar = None
    finished: Scalar = None
    versions: dict[str, Scalar] = {}
    scenario: Scenario = Scenario()
    parameters_used: list[str] | None = None


def load_manifest(run_dir: Path) -> dict[str, Any]:
    """The validated manifest of ``run_dir`` as plain data, every field of the schema present.

    Raises
    ------
    CartsimError
        When the folder has no manifest, it is not JSON, or it does not fit the schema.
    """
    raw = read_manifest(run_dir)
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise CartsimError(
            f"invalid manifest: {error['msg']}", str(run_dir / "manifest.json"), where
        ) from None
    return manifest.model_dump()
