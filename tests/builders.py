"""Builders of small scenarios used across the test suite."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cartsim.inputs.loading import deep_merge, validate
from cartsim.inputs.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]

TEST_SEED = int(os.environ.get("CARTSIM_TEST_SEED", "20240601"))
"""Base seed of every statistical test: set ``CARTSIM_TEST_SEED`` to run the suite on another."""
BASELINE = ROOT / "scenarios" / "baseline.yaml"

SIMPLE: dict[str, Any] = {
    "name": "simple",
    "run": {
        "arrival_window_days": 365,
        "horizon_days": 500,
        "warmup_days": 0,
        "replications": 2,
        "seed": TEST_SEED,
    },
    "demand": {"SLE": {"rate_per_year": 50, "age": 40, "female": 0.9}},
    "resources": {
        "apheresis": {"capacity": 1},
        "manufacturing": {"capacity": 2},
        "ward_bed": {"capacity": 2},
    },
    "arms": {
        "cart": {
            "vein_to_vein_from": "apheresis",
            "stages": [
                {"name": "apheresis", "kind": "activity", "resource": "apheresis", "duration": 1},
                {
                    "name": "manufacturing",
                    "kind": "activity",
                    "resource": "manufacturing",
                    "duration": 13,
                },
                {"name": "qc_release", "kind": "delay", "duration": 7},
                {"name": "lymphodepletion", "kind": "delay", "duration": 5},
                {"name": "infusion", "kind": "treatment"},
                {"name": "monitoring", "kind": "inpatient", "resource": "ward_bed", "duration": 14},
            ],
        }
    },
}


def scenario_dict(**changes: Any) -> dict[str, Any]:
    """A copy of the simple scenario with ``changes`` deep-merged on top."""
    return deep_merge(copy.deepcopy(SIMPLE), changes)


def make_scenario(data: dict[str, Any] | None = None, **changes: Any) -> Scenario:
    return validate(deep_merge(data or scenario_dict(), changes), "test")


CLI = [sys.executable, "-m", "cartsim.cli"]


def cartsim(*args: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would; output is captured as text."""
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit code 2, no traceback, exactly one line on stderr holding every needle."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def small_psa_scenario(
    tmp_path: Path, replications: int = 1, name: str = "small.yaml", **changes: Any
) -> Path:
    """A quick scenario with one PSA parameter (the ward stay), written into ``tmp_path``."""
    import yaml

    data = scenario_dict(
        run={"replications": replications, "arrival_window_days": 365, "horizon_days": 400},
        parameters={
            "ward_days": {
                "value": 14,
                "unit": "days",
                "source": "test",
                "status": "E",
                "psa": {"dist": "uniform", "low": 10, "high": 18},
            }
        },
        **changes,
    )
    data["arms"]["cart"]["stages"][5]["duration"] = "@ward_days"
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sites_dict(point_of_care: bool = False, **changes: Any) -> dict[str, Any]:
    """The simple scenario as a service of two sites (north 60%, south 40% of referrals), each
    with its own apheresis chair and ward beds; manufacturing is national (central) with a
    courier leg each way, or (``point_of_care``) two devices at each site."""
    own = {"apheresis": {"capacity": 1}, "ward_bed": {"capacity": 2}}
    if point_of_care:
        own["manufacturing"] = {"capacity": 2}
    leg = {"kind": "transport", "duration": 1, "dispatch_days": ["mon", "tue", "wed", "thu"],
           "cut_off_hour": 12, "costs": {"transport": 1000}}  # fmt: skip
    data = scenario_dict(
        sites={
            "north": {"catchment": 0.6, "resources": copy.deepcopy(own)},
            "south": {"catchment": 0.4, "resources": copy.deepcopy(own)},
        }
    )
    data["resources"] = {"manufacturing": {"capacity": 2}} if not point_of_care else {}
    stages = data["arms"]["cart"]["stages"]
    stages.insert(1, {"name": "ship_out", "from": "apheresis", "to": "manufacturing", **leg})
    stages.insert(3, {"name": "ship_back", "from": "manufacturing", "to": "ward_bed", **leg})
    return deep_merge(data, changes)
