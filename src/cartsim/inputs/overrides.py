"""``--set dotted.path=value``: overrides of fields that must already exist.

A path is checked against the scenario's JSON Schema and the composed file: every part must be a
field of the schema, or an item the file already has (a resource, disease, arm, parameter or
stage by name). A misspelt ``resources.manufactring.capacity=2`` is therefore an error, not a new
resource. The value is read like a scenario value (YAML 1.2 core schema).
"""

from __future__ import annotations

import functools
from typing import Any

from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.tree import list_index
from cartsim.inputs.yamlsafe import parse_value

SchemaNode = dict[str, Any]


@functools.cache
def _schema() -> SchemaNode:
    from cartsim.inputs.scenario import Scenario

    return Scenario.model_json_schema()


def _options(node: SchemaNode) -> list[SchemaNode]:
    """``node`` with references resolved and unions flattened into their branches."""
    defs = _schema().get("$defs", {})
    if "$ref" in node:
        return _options(defs[node["$ref"].rsplit("/", 1)[-1]])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            return [o for branch in node[key] for o in _options(branch)]
    return [node]


def describe(data: dict[str, Any], dotted: str) -> str | None:
    """The schema's description (with its unit) of the field at ``dotted``, if it has one."""
    try:
        nodes = check_path(data, dotted.split("."), "", "")
    except ScenarioError:
        return None
    for node in nodes:
        for option in [node, *_options(node)]:
            if option.get("description"):
                return str(option["description"])
    return None


def check_path(
    data: dict[str, Any], keys: list[str], file: str, flag: str = "--set"
) -> list[SchemaNode]:
    """Raise unless ``keys`` names a field of the schema or an item ``data`` already has.

    Returns the schema nodes the path may lead to.
    """
    nodes: list[SchemaNode] = [_schema()]
    value: Any = data
    for depth, key in enumerate(keys):
        where = ".".join(keys[: depth + 1])
        found: list[SchemaNode] = []
        named: list[str] | None = None  # the items a map or list has, when it is one
        for node in (o for n in nodes for o in _options(n)):
            props = node.get("properties", {})
            extra = node.get("additionalProperties")
            patterns = node.get("patternProperties", {})
            if extra is None and len(patterns) == 1:  # a mapping whose keys follow one pattern
                extra = next(iter(patterns.values()))
            if key in props:
                found.append(props[key])
            elif isinstance(extra, dict):
                items = value if isinstance(value, dict) else {}
                named = sorted(str(k) for k in items)
                if key in items:
                    found.append(extra)
            elif node.get("type") == "array" and "items" in node:
                items_list: list[Any] = value if isinstance(value, list) else []
                named = [str(i.get("name", n)) if isinstance(i, dict) else str(n)
                         for n, i in enumerate(items_list)]  # fmt: skip
                if list_index(items_list, key) is not None:
                    found.append(node["items"])
        if not found:
            what = f"no such item (known: {named})" if named is not None else "no such field"
            raise ScenarioError(f"{what} (from {flag})", file, where)
        nodes = found
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list):
            index = list_index(value, key)
            value = value[index] if index is not None else None
        else:
            value = None
    return nodes


def apply_override(data: dict[str, Any], assignment: str, file: str, flag: str = "--set") -> None:
    """Apply one ``dotted.path=value`` assignment in place, to a path that must exist."""
    if "=" not in assignment:
        raise ScenarioError(f"{flag} expects dotted.path=value, got {assignment!r}", file)
    dotted, text = assignment.split("=", 1)
    keys = dotted.strip().split(".")
    if not all(keys):
        raise ScenarioError(f"{flag} expects dotted.path=value, got {assignment!r}", file)
    check_path(data, keys, file, flag)
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[key] = parse_value(text)
                return
            if not isinstance(node.get(key), dict | list):  # a group the file leaves out
                node[key] = {}
            node = node[key]
        elif isinstance(node, list):
            index = list_index(node, key)
            if index is None:
                raise ScenarioError(f"no such item (from {flag})", file, where)
            if last:
                node[index] = parse_value(text)
                return
            node = node[index]
        else:
            raise ScenarioError(f"is a value, not a group of fields (from {flag})", file, where)
