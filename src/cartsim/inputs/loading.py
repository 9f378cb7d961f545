"""Reading scenario files: safe YAML, ``extends:`` composition, ``--set`` overrides, ``@`` refs.

A scenario file may start with ``extends: [base.yaml, evidence/costs.yaml]``: each named file
(relative to the extending file) is read first and the extending file is deep-merged on top
(mappings merge, everything else replaces). Any string value ``"@name"`` refers to the parameter
``name`` of the composed ``parameters:`` table and is replaced by its value (or by a probabilistic
draw of it). ``--set dotted.path=value`` overrides any field after composition; a list of named
items (stages) can be addressed by name.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.scenario import Parameter, Scenario

MAX_EXPANDED_NODES = 1_000_000
ORIGINS = "_origins"  # key of the composed mapping: parameter name -> file that defines it
MAX_FILE_BYTES = 5_000_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that rejects repeated keys in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *anchor`` merges; explicit keys may override merged ones
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"repeated key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(obj: Any, memo: dict[int, int]) -> int:
    """Number of nodes ``obj`` would have with every alias expanded (guards alias bombs)."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, dict):
        size = 1 + sum(_expanded_size(v, memo) for v in obj.values()) + len(obj)
    elif isinstance(obj, list):
        size = 1 + sum(_expanded_size(v, memo) for v in obj)
    else:
        size = 1
    memo[key] = size
    return size


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping safely; every problem becomes a :class:`ScenarioError`."""
    if path.is_dir():
        raise ScenarioError("is a folder, not a scenario file", file=str(path))
    if not path.is_file():
        raise ScenarioError("file not found", file=str(path))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"file larger than {MAX_FILE_BYTES} bytes", file=str(path))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"malformed YAML: {problem}", file=str(path), field=where) from None
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", file=str(path)) from None
    except ValueError as exc:  # a value YAML recognises but cannot build, e.g. 2026-13-45
        raise ScenarioError(f"malformed YAML value: {exc}", file=str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError("the top level must be a mapping of keys", file=str(path))
    if _expanded_size(data, {}) > MAX_EXPANDED_NODES:
        raise ScenarioError(
            f"aliases expand to more than {MAX_EXPANDED_NODES} values (alias bomb?)",
            file=str(path),
        )
    return data


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: mappings merge key by key, other values replace."""
    out = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def compose(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """Read ``path`` with everything it ``extends``; return the merged mapping and all files.

    The merged ``parameters`` table notes in ``_origins`` which file defines each parameter.
    """
    path = path.resolve()
    if path in _chain:
        raise ScenarioError("extends forms a cycle", file=str(path), field="extends")
    data = read_yaml(path)
    bases = data.pop("extends", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ScenarioError("must be a file name or a list of them", str(path), "extends")
    merged: dict[str, Any] = {}
    files: list[Path] = []
    for base in bases:
        base_path = path.parent / base
        if not base_path.is_file():
            what = "is a folder" if base_path.is_dir() else "not found"
            raise ScenarioError(f"extended file {what}: {base}", str(path), "extends")
        base_data, base_files = compose(base_path, (*_chain, path))
        merged = deep_merge(merged, base_data)
        files += [f for f in base_files if f not in files]
    origins = {**merged.pop(ORIGINS, {})}
    if isinstance(data.get("parameters"), dict):
        origins.update({name: str(path) for name in data["parameters"]})
    merged = deep_merge(merged, data)
    merged[ORIGINS] = origins
    return merged, [*files, path]


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_override(data: dict[str, Any], assignment: str, file: str) -> None:
    """Apply one ``dotted.path=value`` assignment in place (value parsed as YAML)."""
    if "=" not in assignment:
        raise ScenarioError(f"--set expects dotted.path=value, got {assignment!r}", file)
    dotted, text = assignment.split("=", 1)
    keys = dotted.strip().split(".")
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[key] = _parse_value(text)
                return
            if key not in node:  # a group the file leaves out: validation checks its name
                node[key] = {}
            node = node[key]
        elif isinstance(node, list):
            index = _list_index(node, key)
            if index is None:
                raise ScenarioError("no such item (from --set)", file, where)
            if last:
                node[index] = _parse_value(text)
                return
            node = node[index]
        else:
            raise ScenarioError("is a value, not a group of fields (from --set)", file, where)


def _list_index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit():
        index = int(key)
        return index if -len(items) <= index < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    return None


def substitute(node: Any, values: Mapping[str, float], where: str = "") -> Any:
    """Replace every ``"@name"`` string in ``node`` by ``values[name]``."""
    if isinstance(node, dict):
        return {
            k: substitute(v, values, f"{where}.{k}" if where else str(k)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [substitute(v, values, f"{where}.{i}") for i, v in enumerate(node)]
    if isinstance(node, str) and node.startswith("@"):
        name = node[1:]
        if name not in values:
            raise KeyError((where, name))
        return values[name]
    return node


def format_location(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str:
    """Dotted field path from a pydantic location, naming stages rather than numbering them.

    Location parts that are not in the data (the branch labels of a union: ``float``,
    ``lognormal``, ``constrained-int``) are left out, except a last part naming a missing or
    unknown field.
    """
    parts: list[str] = []
    node: Any = data
    for position, item in enumerate(loc):
        if isinstance(item, int) and isinstance(node, list) and 0 <= item < len(node):
            node = node[item]
            name = node.get("name") if isinstance(node, dict) else None
            parts.append(str(name) if name else str(item))
        elif isinstance(node, dict) and item in node:
            node = node[item]
            parts.append(str(item))
        elif position == len(loc) - 1 and isinstance(node, dict) and isinstance(item, str):
            if not item.islower() or "-" in item or "[" in item:
                continue  # a branch label, not a field
            parts.append(item)  # a field that is missing (or not allowed)
    return ".".join(parts)


@dataclass(frozen=True)
class ScenarioSource:
    """A composed scenario before parameter values are put in: the input to every draw."""

    path: Path
    raw: dict[str, Any]
    files: list[Path]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def base_values(self) -> dict[str, float]:
        return {name: p.value for name, p in self.parameters.items()}

    def build(self, values: Mapping[str, float] | None = None) -> Scenario:
        """Validate the scenario with parameter ``values`` (default: the base case)."""
        base_case = values is None
        values = self.base_values() if values is None else {**self.base_values(), **values}
        body = {k: v for k, v in self.raw.items() if k != "parameters"}
        try:
            resolved = substitute(body, values)
        except KeyError as exc:
            where, name = exc.args[0]
            raise ScenarioError(f"unknown parameter @{name}", str(self.path), where) from None
        resolved["parameters"] = self.raw.get("parameters", {})
        try:
            return validate(resolved, str(self.path), base_case=base_case)
        except ScenarioError as exc:
            raw = _value_at(body, exc.field)
            if isinstance(raw, str) and raw.startswith("@") and raw[1:] in self.origins:
                origin = self.origins[raw[1:]]
                exc = ScenarioError(f"{exc.message} (the value of {raw}, set in {origin})",
                                    exc.file, exc.field)  # fmt: skip
            raise exc from None

    def used_parameters(self) -> list[str]:
        """Names of the parameters some field refers to (``"@name"``); the others are context."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
            elif isinstance(node, str) and node.startswith("@"):
                found.add(node[1:])

        walk({k: v for k, v in self.raw.items() if k != "parameters"})
        return sorted(found)

    def digests(self) -> dict[str, str]:
        return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in self.files}


def validate(data: Mapping[str, Any], file: str, base_case: bool = True) -> Scenario:
    """Validate a composed mapping, raising the first problem as one line.

    ``base_case`` checks what only input values must satisfy (e.g. ordered grade risks);
    probabilistic draws of independent parameters are reconciled by the model instead.
    """
    try:
        return Scenario.model_validate(data, context={"base_case": base_case})
    except ValidationError as exc:
        raise _first_error(exc, data, file) from None


ERROR_ORDER = {"extra_forbidden": 0, "union_tag_invalid": 1, "missing": 2}


def _first_error(exc: ValidationError, data: Mapping[str, Any], file: str) -> ScenarioError:
    """The most telling problem: an unknown field or distribution first, then the most specific."""
    errors = exc.errors()
    first = min(errors, key=lambda e: (ERROR_ORDER.get(e["type"], 3), -len(e["loc"])))
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] == "union_tag_invalid":
        ctx = first.get("ctx", {})
        msg = f"unknown distribution {ctx.get('tag')!r} (known: {ctx.get('expected_tags')})"
    return ScenarioError(msg, file, format_location(tuple(first["loc"]), data) or None)


def _value_at(data: Any, field: str | None) -> Any:
    """The raw value at a dotted path as :func:`format_location` names it (None if absent)."""
    node = data
    for key in (field or "").split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list):
            match = [x for x in node if isinstance(x, dict) and x.get("name") == key]
            node = match[0] if match else (node[int(key)] if key.isdigit() else None)
        else:
            return None
    return node


def load(path: str | Path, overrides: list[str] | None = None) -> ScenarioSource:
    """Read, compose and override a scenario file; check that the base case validates."""
    path = Path(path)
    raw, files = compose(path)
    origins = raw.pop(ORIGINS, {})
    for assignment in overrides or []:
        apply_override(raw, assignment, str(path))
    params_raw = raw.get("parameters", {}) or {}
    if not isinstance(params_raw, dict):
        raise ScenarioError("must be a mapping of named parameters", str(path), "parameters")
    parameters: dict[str, Parameter] = {}
    for name, spec in params_raw.items():
        try:
            parameters[name] = Parameter.model_validate(spec)
        except ValidationError as exc:
            origin = origins.get(name, str(path))
            err = _first_error(exc, spec if isinstance(spec, dict) else {}, origin)
            where = ".".join(x for x in ("parameters", name, err.field) if x)
            raise ScenarioError(err.message, origin, where) from None
    raw["parameters"] = params_raw
    source = ScenarioSource(path=path, raw=raw, files=files, parameters=parameters, origins=origins)
    source.build()
    return source
