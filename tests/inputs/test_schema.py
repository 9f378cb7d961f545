"""The JSON Schema of scenario files: every field is described, with its unit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cartsim.cli import app


def undescribed(schema: dict[str, object]) -> list[str]:
    """Dotted names of the properties of every model in ``schema`` without a description."""
    models = {"Scenario": schema, **schema.get("$defs", {})}  # type: ignore[dict-item]
    missing = []
    for model, node in models.items():
        for name, prop in node.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{model}.{name}")
    return missing


def test_every_schema_field_has_a_description() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert len(schema["$defs"]) > 20  # the walk sees the nested models
    assert undescribed(schema) == []


def test_the_walk_finds_a_field_without_description() -> None:
    schema = {"properties": {"a": {"type": "number"}, "b": {"description": "days"}}}
    assert undescribed(schema) == ["Scenario.a"]
