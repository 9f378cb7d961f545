"""A module that imports pandas or numpy only for type checking (to start faster) must import it
inside every function that uses it at run time: otherwise the function fails with NameError."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cartsim"
LAZY = {"pd", "np"}


def runtime_uses_without_import(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    top = {a.asname or a.name for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
           for a in n.names}  # fmt: skip
    only_typing = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            imports = [m for m in node.body if isinstance(m, ast.Import | ast.ImportFrom)]
            only_typing |= {a.asname or a.name for m in imports for a in m.names}
    lazy = (only_typing & LAZY) - top
    problems = []
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        body = [sub for stmt in func.body for sub in ast.walk(stmt)]
        local = {
            a.asname or a.name for sub in body if isinstance(sub, ast.Import) for a in sub.names
        }
        used = {sub.value.id for sub in body if isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name) and sub.value.id in lazy}  # fmt: skip
        problems += [f"{func.name} uses {name}" for name in sorted(used - local)]
    return problems


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda m: m.name)
def test_lazily_imported_modules_are_imported_where_they_are_used(module: Path) -> None:
    assert runtime_uses_without_import(module) == []


def test_the_check_finds_a_missing_local_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas as pd\n\n"
        "def f() -> None:\n    return pd.DataFrame()\n"
    )
    assert runtime_uses_without_import(bad) == ["f uses pd"]
