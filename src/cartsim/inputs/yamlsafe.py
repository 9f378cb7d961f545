"""Reading YAML safely: the YAML 1.2 core schema, bounded nesting, and the line of every field.

PyYAML follows YAML 1.1, in which ``yes``, ``no``, ``on`` and ``off`` are booleans, ``1:30`` is the
sexagesimal number 90 and ``0x10`` is 16. Here only the YAML 1.2 core schema is resolved:
``true``/``false``, ``null``/``~``, decimal integers, decimal floats and ``.inf``/``.nan`` (which
validation then refuses); ISO dates (``2026-01-05``) are kept as dates. Everything else, octal
``0o17`` and hexadecimal ``0x10`` included, stays a string, which validation refuses where a
number is expected.

Nesting is bounded (:data:`MAX_DEPTH`), recursive aliases, complex (non-scalar) keys and repeated
keys are refused, and aliases may not expand to more than :data:`MAX_EXPANDED_NODES` values.
:func:`parse` also returns the line of every field, keyed by its dotted path (list items by their
``name`` when they have one, else by position).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import yaml

MAX_DEPTH = 64
MAX_EXPANDED_NODES = 1_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlProblem(Exception):
    """A YAML text that cannot be read; ``line`` is 1-based (None when unknown)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


if TYPE_CHECKING or not getattr(yaml, "__with_libyaml__", False):
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser: the same documents, ten times faster
    _SafeLoader = yaml.CSafeLoader


class CoreLoader(_SafeLoader):
    """Safe loader resolving only the YAML 1.2 core schema (plus ISO dates and merge keys)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue  # ``<<: *anchor`` merges; explicit keys may override merged ones
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"repeated key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


CoreLoader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:timestamp", r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$", "0123456789"),
    (MERGE_TAG, r"^<<$", "<"),
]
for _tag, _pattern, _first in _RESOLVERS:
    CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _int(loader: CoreLoader, node: yaml.ScalarNode) -> int:
    return int(str(loader.construct_scalar(node)))


CoreLoader.add_constructor("tag:yaml.org,2002:int", _int)


def _date(loader: CoreLoader, node: yaml.ScalarNode) -> dt.date | str:
    """An ISO date; a date that does not exist stays text, which validation names by field."""
    text = str(loader.construct_scalar(node))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


CoreLoader.add_constructor("tag:yaml.org,2002:timestamp", _date)


def _bool(loader: CoreLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


CoreLoader.add_constructor("tag:yaml.org,2002:bool", _bool)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` before any recursive step runs."""
    depth = 0
    for event in yaml.parse(text, Loader=CoreLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep", line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _walk(
    node: yaml.Node,
    path: tuple[str, ...],
    lines: dict[str, int],
    active: set[int],
    memo: dict[int, tuple[int, int]],
) -> tuple[int, int]:
    """Check ``node`` (cycles, depth, keys) and record lines; return its expanded size and
    height (both counted as if every alias were written out)."""
    line = node.start_mark.line + 1
    if id(node) in active:
        raise YamlProblem("recursive alias (a value that contains itself)", line)
    if id(node) not in memo:
        lines.setdefault(".".join(path), line)
        active.add(id(node))
        memo[id(node)] = _walk_children(node, path, lines, active, memo)
        active.discard(id(node))
    size, height = memo[id(node)]
    if len(path) + height > MAX_DEPTH:
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep (through aliases)", line)
    if size > MAX_EXPANDED_NODES:
        raise YamlProblem(
            f"aliases expand to more than {MAX_EXPANDED_NODES} values (alias bomb?)", line
        )
    return size, height


def _walk_children(
    node: yaml.Node,
    path: tuple[str, ...],
    lines: dict[str, int],
    active: set[int],
    memo: dict[int, tuple[int, int]],
) -> tuple[int, int]:
    size, height = 1, 0
    children: list[tuple[tuple[str, ...], yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(
                    "a key must be a plain name, not a list or mapping", node.start_mark.line + 1
                )
            # merged keys (<<) belong to the mapping itself
            key = () if key_node.tag == MERGE_TAG else (str(key_node.value),)
            lines.setdefault(".".join((*path, *key)), key_node.start_mark.line + 1)
            size += 1
            children.append(((*path, *key), value_node))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            label = str(index)
            if isinstance(item, yaml.MappingNode):
                for key_node, value_node in item.value:
                    if getattr(key_node, "value", None) == "name" and isinstance(
                        value_node, yaml.ScalarNode
                    ):
                        label = str(value_node.value)
            children.append(((*path, label), item))
    for child_path, child in children:
        child_size, child_height = _walk(child, child_path, lines, active, memo)
        size += child_size
        height = max(height, child_height + 1)
        if size > MAX_EXPANDED_NODES:
            raise YamlProblem(
                f"aliases expand to more than {MAX_EXPANDED_NODES} values (alias bomb?)",
                node.start_mark.line + 1,
            )
    return size, height


def parse(text: str) -> tuple[Any, dict[str, int]]:
    """The value of a YAML document and the line of each dotted field path in it."""
    try:
        _check_depth(text)
        loader = CoreLoader(text)
        try:
            node = loader.get_single_node()
            lines: dict[str, int] = {}
            if node is None:
                return None, lines
            _walk(node, (), lines, set(), {})
            return loader.construct_document(node), lines
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlProblem(f"malformed YAML: {problem}", mark.line + 1 if mark else None) from None
    except (ValueError, OverflowError) as exc:  # a value YAML recognises but cannot build
        raise YamlProblem(f"malformed YAML value: {exc}") from None
    except RecursionError:  # a last guard; nesting and cycles are refused above
        raise YamlProblem("nested too deeply to read") from None


def parse_value(text: str) -> Any:
    """One value from the command line (``--set``/``--vary``), read like a scenario value."""
    try:
        value, _ = parse(text)
    except YamlProblem:
        return text
    return value
