"""Reading scenario files: safe YAML, ``extends:`` composition, ``--set`` overrides, ``@`` refs.

A scenario file may start with ``extends: [base.yaml, evidence/costs.yaml]``: each named file
(relative to the extending file) is read first and the extending file is deep-merged on top
(mappings merge, everything else replaces). Any string value ``"@name"`` refers to the parameter
``name`` of the composed ``parameters:`` table and is replaced by its value (or by a probabilistic
draw of it). ``--set dotted.path=value`` overrides a field after composition; the path must name
a field of the schema or an item the file has (:mod:`cartsim.inputs.overrides`), and a list of
named items (stages) can be addressed by name. Every error names the file and line that set the
field at fault.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cartsim.inputs import tree
from cartsim.inputs.dist_base import U_MAX
from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.money import parameter_factors
from cartsim.inputs.overrides import apply_override, describe
from cartsim.inputs.scenario import Parameter, Scenario
from cartsim.inputs.threshold_prices import price_reference_problem
from cartsim.inputs.yamlsafe import YamlProblem, parse

ORIGINS = "_origins"  # key of the composed mapping: parameter name -> file that defines it
LINES = "_lines"  # key of the composed mapping: dotted field path -> (file, line)
MAX_FILE_BYTES = 5_000_000
SMALLEST_UNIFORM = 2.0**-53  # the smallest non-zero uniform Generator.random returns
Lines = dict[str, tuple[str, int]]


def read_yaml_lines(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Read one YAML mapping safely, with the line of each field; problems are ScenarioErrors."""
    try:
        if path.is_dir():
            raise ScenarioError("is a folder, not a scenario file", file=str(path))
        if not path.is_file():
            raise ScenarioError("file not found", file=str(path))
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"file larger than {MAX_FILE_BYTES} bytes", file=str(path))
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", file=str(path)) from None
    try:
        data, lines = parse(text)
    except YamlProblem as exc:
        raise ScenarioError(exc.message, file=str(path), lineno=exc.line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError("the top level must be a mapping of keys", file=str(path))
    return data, lines


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping safely; every problem becomes a :class:`ScenarioError`."""
    return read_yaml_lines(path)[0]


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

    The merged ``parameters`` table notes in ``_origins`` which file defines each parameter,
    and ``_lines`` maps each dotted field path to the file and line that set it last.
    """
    try:
        path = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ScenarioError(f"cannot resolve the path: {exc}", file=str(path)) from None
    if path in _chain:
        raise ScenarioError("extends forms a cycle", file=str(path), field="extends")
    data, own_lines = read_yaml_lines(path)
    bases = data.pop("extends", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ScenarioError("must be a file name or a list of them", str(path), "extends",
                            own_lines.get("extends"))  # fmt: skip
    merged: dict[str, Any] = {}
    files: list[Path] = []
    lines: Lines = {}
    for base in bases:
        base_path = path.parent / base
        try:
            is_file, is_dir = base_path.is_file(), base_path.is_dir()
        except OSError:
            is_file = is_dir = False
        if not is_file:
            what = "is a folder" if is_dir else "not found or unreadable"
            raise ScenarioError(f"extended file {what}: {base}", str(path), "extends",
                                own_lines.get("extends"))  # fmt: skip
        base_data, base_files = compose(base_path, (*_chain, path))
        lines.update(base_data.pop(LINES, {}))
        merged = deep_merge(merged, base_data)
        files += [f for f in base_files if f not in files]
    origins = {**merged.pop(ORIGINS, {})}
    if isinstance(data.get("parameters"), dict):
        origins.update({str(name): str(path) for name in data["parameters"]})
    merged = deep_merge(merged, data)
    merged[ORIGINS] = origins
    lines.update({k: (str(path), n) for k, n in own_lines.items() if k and k != "extends"})
    merged[LINES] = lines
    return merged, [*files, path]


def substitute(node: Any, values: Mapping[str, float], where: str = "") -> Any:
    """Replace every ``"@name"`` string in ``node`` by ``values[name]``."""

    def resolve(path: str, leaf: Any) -> Any:
        if isinstance(leaf, str) and leaf.startswith("@"):
            if leaf[1:] not in values:
                raise KeyError((path, leaf[1:]))
            return values[leaf[1:]]
        return leaf

    return tree.map_leaves(node, resolve, where)


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
            if not item.islower() or "-" in item or "[" in item or node.get("kind") == item:
                continue  # a branch label (a stage's kind among them), not a field
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
    lines: Lines = field(default_factory=dict)
    overridden: tuple[tuple[str, str], ...] = ()  # (dotted path, the option that set it)

    def locate(self, exc: ScenarioError) -> ScenarioError:
        """``exc`` naming the file and line that set its field (or the option that did)."""
        if not exc.field or exc.lineno is not None:
            return exc
        for path, option in reversed(self.overridden):  # the last one set the value
            if exc.field == path or exc.field.startswith(path + "."):
                return ScenarioError(f"{exc.message} (from {option} {path})", exc.file, exc.field)
        below = [f"{o} {p}" for p, o in self.overridden if p.startswith(exc.field + ".")]
        message = exc.message + (f" (after {', '.join(below)})" if below else "")
        parts = exc.field.split(".")
        while parts:
            found = self.lines.get(".".join(parts))
            if found:
                return ScenarioError(message, found[0], exc.field, found[1])
            parts.pop()
        return ScenarioError(message, exc.file, exc.field) if below else exc

    def base_values(self) -> dict[str, float]:
        return {name: p.value for name, p in self.parameters.items()}

    def money_factors(self) -> Mapping[str, float]:
        """Per money parameter, the factor to the scenario's currency and price year (worked
        out once: every draw's build uses them)."""
        return self._money_factors

    @cached_property
    def _money_factors(self) -> Mapping[str, float]:
        try:
            return parameter_factors(self.parameters, self.raw)  # read, never changed
        except CartsimError as exc:
            name = (exc.field or "").split(".")[1:2]
            origin = self.origins.get(name[0], str(self.path)) if name else str(self.path)
            raise self.locate(ScenarioError(exc.message, origin, exc.field)) from None

    def build(self, values: Mapping[str, float] | None = None) -> Scenario:
        """Validate the scenario with parameter ``values`` (default: the base case).

        ``values`` are in each parameter's own unit; money is converted to the scenario's
        currency and price year (:mod:`cartsim.inputs.money`) before it is put in.
        """
        base_case = values is None
        values = self.base_values() if values is None else {**self.base_values(), **values}
        factors = self.money_factors()
        values = {k: v * factors.get(k, 1.0) for k, v in values.items()}
        body = {k: v for k, v in self.raw.items() if k != "parameters"}
        if not base_case and self.checked_references(values):
            # a draw of a checked base case: the values put in where they are referred to,
            # the parameters as validated by load (their specifications do not change)
            resolved = tree.replaced(body, ((k, values[n]) for k, n in self.references))
            resolved["parameters"] = dict(self.parameters)
        else:
            try:
                resolved = substitute(body, values)
            except KeyError as exc:
                where, name = exc.args[0]
                error = ScenarioError(f"unknown parameter @{name}", str(self.path), where)
                raise self.locate(error) from None
            resolved["parameters"] = self.raw.get("parameters", {})
        try:
            return validate(resolved, str(self.path), base_case=base_case)
        except ScenarioError as exc:
            raw = tree.value_at(body, exc.field)
            if isinstance(raw, str) and raw.startswith("@") and raw[1:] in self.origins:
                origin = self.origins[raw[1:]]
                exc = ScenarioError(f"{exc.message} (the value of {raw}, set in {origin})",
                                    exc.file, exc.field)  # fmt: skip
            raise self.locate(exc) from None

    @cached_property
    def references(self) -> list[tuple[tree.Keys, str]]:
        """Where the scenario refers to a parameter (``"@name"``): the keys and the name."""
        body = {k: v for k, v in self.raw.items() if k != "parameters"}
        return [(keys, leaf[1:]) for keys, leaf in tree.leaves(body)
                if isinstance(leaf, str) and leaf.startswith("@")]  # fmt: skip

    def checked_references(self, values: Mapping[str, float]) -> bool:
        """Whether every reference names a value and every parameter was validated by load."""
        raw = self.raw.get("parameters") or {}
        return self.parameters.keys() == raw.keys() and all(n in values for _, n in self.references)

    def check_draws(self) -> None:
        """Every value a probabilistic or one-way analysis can give a parameter must validate.

        The extremes are the one-way range (``low``/``high``) and the smallest and largest values
        the PSA distribution's sampler can return. All parameters are set to their lowest, then
        to their highest values; only if that fails is each tried alone, to name the one at fault
        (a failure of the combination alone is left to the analyses).
        """
        ends: dict[str, tuple[float, float]] = {}
        for name in self.used_parameters():
            param = self.parameters.get(name)
            if param is None:
                continue
            values = [param.value, *(param.sensitivity_range() or ())]
            if param.psa is not None:
                values += [float(v) for v in param.psa.ppf([SMALLEST_UNIFORM, U_MAX])]
            ends[name] = (min(values), max(values))
        for side in (0, 1):
            try:
                self.build({n: e[side] for n, e in ends.items()})
                continue
            except ScenarioError:
                pass
            for name, end in ends.items():
                try:
                    self.build({name: end[side]})
                except ScenarioError as exc:
                    which = ("lowest", "highest")[side]
                    raise ScenarioError(
                        f"{exc.message} (with @{name} = {end[side]:.6g}, the {which} value "
                        "probabilistic or one-way analysis can give it)",
                        exc.file, exc.field, exc.lineno,
                    ) from None  # fmt: skip

    def used_parameters(self) -> list[str]:
        """Names of the parameters some field refers to (``"@name"``); the others are context."""
        body = {k: v for k, v in self.raw.items() if k != "parameters"}
        return sorted(
            {v[1:] for _, v in tree.nodes(body) if isinstance(v, str) and v.startswith("@")}
        )

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
    where = format_location(tuple(first["loc"]), data)
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        ctx = first.get("ctx", {})
        what = "stage kind" if "kind" in str(ctx.get("discriminator")) else "distribution"
        if first["type"] == "union_tag_not_found":
            msg = f"missing {ctx.get('discriminator')} (the {what})"
        else:
            msg = f"unknown {what} {ctx.get('tag')!r} (known: {ctx.get('expected_tags')})"
    elif first["type"] in UNIT_ERRORS and where:
        unit = describe(dict(data), where)
        msg = f"{msg} ({unit})" if unit else msg
    else:
        named = FIELD_IN_MESSAGE.match(msg)  # checks across fields name the field they concern
        if named:
            where = ".".join(x for x in (where, named.group(1)) if x)
            msg = named.group(2)
    return ScenarioError(msg, file, where or None)


UNIT_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "finite_number",
    "float_type",
    "int_type",
    "float_parsing",
    "int_parsing",
}
FIELD_IN_MESSAGE = re.compile(r"^([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-*]+)*): (.+)$", re.S)


def load(
    path: str | Path, overrides: list[str] | None = None, varied: list[str] | None = None
) -> ScenarioSource:
    """Read, compose and override a scenario file; check that the base case validates.

    ``overrides`` come from ``--set``, ``varied`` (applied after them) from a sweep's ``--vary``:
    an error they cause names the option.
    """
    path = Path(path)
    raw, files = compose(path)
    origins = raw.pop(ORIGINS, {})
    lines = raw.pop(LINES, {})
    written = price_reference_problem(raw)  # the threshold prices as the files write them
    overridden = []
    for option, assignments in (("--set", overrides), ("--vary", varied)):
        for assignment in assignments or []:
            apply_override(raw, assignment, str(path), option)
            overridden.append((assignment.split("=", 1)[0].strip(), option))
    priced = any(p.split(".")[0] == "threshold_prices" for p, _ in overridden)
    source = ScenarioSource(path=path, raw=raw, files=files, origins=origins, lines=lines,
                            overridden=tuple(overridden))  # fmt: skip
    params_raw = raw.get("parameters", {}) or {}
    if not isinstance(params_raw, dict):
        error = ScenarioError("must be a mapping of named parameters", str(path), "parameters")
        raise source.locate(error)
    for name, spec in params_raw.items():
        try:
            source.parameters[str(name)] = Parameter.model_validate(spec)
        except ValidationError as exc:
            origin = origins.get(name, str(path))
            err = _first_error(exc, spec if isinstance(spec, dict) else {}, origin)
            where = ".".join(str(x) for x in ("parameters", name, err.field) if x)
            raise source.locate(ScenarioError(err.message, origin, where)) from None
    raw["parameters"] = params_raw
    source.build()
    problem = price_reference_problem(raw)
    if problem and (written or priced):
        # refused as written, or as the options name the prices; not when an option (or a
        # scenario analysis) only put a number where the price was referred to
        raise source.locate(ScenarioError(problem[1], str(path), problem[0]))
    source.check_draws()
    return source
