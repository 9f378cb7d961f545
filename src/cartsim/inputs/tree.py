"""Walking the nested mappings and lists of a scenario file: the one place for it.

A *path* is dotted: mapping keys, and list items by position or by their ``name`` (stages), so
``arms.cart.stages.manufacturing.duration`` and ``arms.cart.stages.1.duration`` are the same
field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any


def join(path: str, key: object) -> str:
    """``path.key`` (or ``key`` at the top)."""
    return f"{path}.{key}" if path else str(key)


def nodes(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every node of ``tree`` with its dotted path, parents before children (depth first)."""
    yield path, tree
    if isinstance(tree, Mapping):
        for key, child in tree.items():
            yield from nodes(child, join(path, key))
    elif isinstance(tree, list):
        for index, child in enumerate(tree):
            yield from nodes(child, join(path, index))


def map_leaves(tree: Any, func: Callable[[str, Any], Any], path: str = "") -> Any:
    """A copy of ``tree`` with every leaf (neither mapping nor list) replaced by
    ``func(path, leaf)``."""
    if isinstance(tree, Mapping):
        return {key: map_leaves(child, func, join(path, key)) for key, child in tree.items()}
    if isinstance(tree, list):
        return [map_leaves(child, func, join(path, i)) for i, child in enumerate(tree)]
    return func(path, tree)


def list_index(items: list[Any], key: str) -> int | None:
    """The position of the item ``key`` names in ``items``: a position, or an item's ``name``."""
    if key.lstrip("-").isdigit():
        index = int(key)
        return index if -len(items) <= index < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("name") == key:
            return i
    return None


def value_at(tree: Any, dotted: str | None) -> Any:
    """The value at a dotted path (None when there is none)."""
    node = tree
    for key in (dotted or "").split("."):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and (index := list_index(node, key)) is not None:
            node = node[index]
        else:
            return None
    return node


Keys = tuple[Any, ...]  # mapping keys and list positions from the top to a node


def leaves(tree: Any, keys: Keys = ()) -> Iterator[tuple[Keys, Any]]:
    """Every leaf (neither mapping nor list) of ``tree`` with its keys from the top."""
    if isinstance(tree, Mapping):
        for key, child in tree.items():
            yield from leaves(child, (*keys, key))
    elif isinstance(tree, list):
        for index, child in enumerate(tree):
            yield from leaves(child, (*keys, index))
    else:
        yield keys, tree


def replaced(tree: Any, changes: Iterable[tuple[Keys, Any]]) -> Any:
    """A copy of ``tree`` with the leaf at each ``keys`` replaced by its value: only the mappings
    and lists on the way to a change are copied, the rest is shared with ``tree``."""
    copies: dict[Keys, Any] = {(): copy.copy(tree)}
    for keys, value in changes:
        node = copies[()]
        for depth in range(1, len(keys)):
            inner = copies.get(keys[:depth])
            if inner is None:
                inner = copies[keys[:depth]] = copy.copy(node[keys[depth - 1]])
                node[keys[depth - 1]] = inner
            node = inner
        node[keys[-1]] = value
    return copies[()]
