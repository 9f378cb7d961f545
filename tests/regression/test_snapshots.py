"""Seeded short runs of the shipped scenarios against their stored snapshot (to 1e-9).

A model change that moves these results must regenerate the snapshot in the same commit with
``tests/regression/update_snapshots.py``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from snapshot import SCENARIOS, load_snapshots, results  # noqa: E402

TOLERANCE = 1e-9


def differences(got: Any, want: Any, where: str = "") -> list[str]:
    """Every place where ``got`` differs from ``want`` (numbers to ``TOLERANCE``)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{where}: keys {sorted(set(got) ^ set(want))}"] if set(got) != set(want) else []
        for key in sorted(set(got) & set(want)):
            out += differences(got[key], want[key], f"{where}.{key}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return [f"{where}: {len(got)} rows, snapshot has {len(want)}"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in differences(g, w, f"{where}[{i}]")
        ]
    numbers = (int, float)
    if isinstance(want, numbers) and isinstance(got, numbers) and not isinstance(want, bool):
        same = math.isclose(got, want, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        return [] if same else [f"{where}: {got!r} != snapshot {want!r}"]
    return [] if got == want else [f"{where}: {got!r} != snapshot {want!r}"]


@pytest.fixture(scope="module")
def snapshots() -> dict[str, Any]:
    return load_snapshots()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_results_match_the_snapshot(name: str, snapshots: dict[str, Any]) -> None:
    got = results(name)
    assert got["kpis"], "no KPIs"
    found = differences(got, snapshots[name], name)
    assert not found, "\n".join(found[:20])


def test_the_comparison_sees_a_small_change() -> None:
    want = {"kpis": [{"arm": "cart", "mean": 1.0}], "incremental": [{"icer": "nan"}]}
    assert differences(want, want) == []
    assert differences(
        {"kpis": [{"arm": "cart", "mean": 1.0 + 1e-8}], "incremental": [{"icer": "nan"}]}, want
    )
    assert differences(
        {"kpis": [{"arm": "soc", "mean": 1.0}], "incremental": [{"icer": "nan"}]}, want
    )
    assert differences({"kpis": [], "incremental": [{"icer": "nan"}]}, want)
