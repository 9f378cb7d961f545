"""The package layout: imports follow the data flow and modules stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cartsim"
FLOW = ["inputs", "engine", "evaluate", "decide", "runs", "report", "cli"]
MAX_LINES = 400
MODULES = sorted(PACKAGE.rglob("*.py"))


def layer(parts: tuple[str, ...]) -> int | None:
    """The position in the flow of ``cartsim.<parts>`` (None for the package root)."""
    return FLOW.index(parts[0]) if parts and parts[0] in FLOW else None


def imported(tree: ast.Module, module: Path) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every ``cartsim`` import of ``module``, relative ones resolved."""
    package = module.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    if module.name == "__init__.py":
        package = module.relative_to(PACKAGE.parent).parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "cartsim"]


def violations(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    own = layer(module.relative_to(PACKAGE).with_suffix("").parts)
    if own is None:
        return []
    out = []
    for line, name in imported(tree, module):
        target = layer(tuple(name.split(".")[1:2]))
        if target is not None and target > own:
            out.append(f"{module.relative_to(PACKAGE)}:{line} imports {name} ({FLOW[target]})")
    return sorted(set(out))


def test_modules_were_found() -> None:
    folders = {m.relative_to(PACKAGE).parts[0] for m in MODULES}
    assert set(FLOW) <= folders and (PACKAGE / "cli" / "__init__.py") in MODULES


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_imports_point_only_to_the_same_or_an_earlier_folder(module: Path) -> None:
    assert violations(module) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_modules_stay_short(module: Path) -> None:
    name = module.relative_to(PACKAGE).as_posix()
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_the_check_finds_a_backward_import(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "cartsim"
    (fake / "engine").mkdir(parents=True)
    bad = fake / "engine" / "bad.py"
    bad.write_text(
        "from cartsim.inputs.units import DAYS_PER_YEAR\n"
        "from cartsim.evaluate import derive\n"
        "import cartsim.report.text\n"
        "from ..runs import jobs\n"
        "from . import pathway\n"
    )
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    assert violations(bad) == [
        "engine/bad.py:2 imports cartsim.evaluate (evaluate)",
        "engine/bad.py:2 imports cartsim.evaluate.derive (evaluate)",
        "engine/bad.py:3 imports cartsim.report.text (report)",
        "engine/bad.py:4 imports cartsim.runs (runs)",
        "engine/bad.py:4 imports cartsim.runs.jobs (runs)",
    ]
