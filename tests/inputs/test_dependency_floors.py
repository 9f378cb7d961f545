"""No dependency floor in pyproject.toml admits a version with a known vulnerability."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def known_vulnerable() -> list[dict[str, str]]:
    with (ROOT / "tests" / "data" / "known_vulnerable.toml").open("rb") as f:
        return list(tomllib.load(f)["vulnerability"])


def requirements() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return [*project["dependencies"], *extras]


def admitted_vulnerabilities(reqs: list[str], table: list[dict[str, str]]) -> list[str]:
    """``package floor (id)`` for each requirement whose lowest admitted version is affected."""
    found = []
    for text in reqs:
        req = Requirement(text)
        floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
        floor = max(floors) if floors else Version("0")
        for vuln in table:
            if canonicalize_name(vuln["package"]) != canonicalize_name(req.name):
                continue
            if vuln_admits(vuln["affected"], floor) and req.specifier.contains(floor, True):
                found.append(f"{req.name} {floor} ({vuln['id']})")
    return found


def vuln_admits(affected: str, version: Version) -> bool:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(affected).contains(version, prereleases=True)


def test_no_floor_admits_a_known_vulnerable_version() -> None:
    table = known_vulnerable()
    assert {v["package"] for v in table} >= {"pyarrow"}
    assert admitted_vulnerabilities(requirements(), table) == []


def test_the_check_catches_a_vulnerable_floor() -> None:
    table = known_vulnerable()
    assert admitted_vulnerabilities(["pyarrow>=14"], table) == ["pyarrow 14 (CVE-2023-47248)"]
    assert admitted_vulnerabilities(["PyYAML>=5.3"], table) == ["PyYAML 5.3 (CVE-2020-14343)"]
    assert admitted_vulnerabilities(["pyarrow>=14.0.1", "pyyaml>=6"], table) == []
