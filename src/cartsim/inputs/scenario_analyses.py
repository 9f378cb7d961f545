"""``scenario_analyses:``: named sets of overrides of the base case, as ``--set`` gives them.

Each analysis changes some fields (discount rates, time horizon, a parameter's value, the
perspective...) and is run on the same patients as the base case by ``cartsim scenarios``.
Every path is checked like a ``--set`` path when the scenario is read, so a misspelt one is
refused with the file and line that wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.fields import Strict
from cartsim.inputs.overrides import check_path

Value = str | int | float | bool | None


class ScenarioAnalysis(Strict):
    """One scenario analysis: what it changes and the overrides that change it."""

    description: Annotated[str, Field(min_length=1)] = Field(
        description="what the analysis changes and why, one line (text)"
    )
    set: Annotated[dict[str, Value], Field(min_length=1)] = Field(
        description="dotted.path: value overrides of the base case, as --set takes them (each "
        "value in the unit of its field; null where the field allows it, e.g. a lifetime "
        "horizon_years)"
    )


def override_text(path: str, value: Value) -> str:
    """The ``--set`` assignment of one override (YAML text of its value)."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = repr(value) if isinstance(value, float) else str(value)
    return f"{path}={text}"


def check_analysis_paths(data: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming ``scenario_analyses.NAME.set.PATH`` for a path that names no
    field of the schema and no item the scenario has (as ``--set`` would)."""
    analyses = data.get("scenario_analyses")
    if not isinstance(analyses, Mapping):
        return
    body = dict(data)
    for name, analysis in analyses.items():
        overrides = analysis.get("set") if isinstance(analysis, Mapping) else None
        if not isinstance(overrides, Mapping):
            continue
        for path in overrides:
            keys = str(path).split(".")
            where = f"scenario_analyses.{name}.set.{path}"
            if not all(keys) or keys[0] == "scenario_analyses":
                raise ValueError(f"{where}: not a path to a field of the base case")
            try:
                check_path(body, keys, "", "scenario_analyses")
            except ScenarioError as exc:
                raise ValueError(f"{where}: {exc.message} at {exc.field}") from None
