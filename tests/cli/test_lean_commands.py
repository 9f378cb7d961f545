"""Commands import only what they need: ``check`` none of the table, plotting or simulation
libraries; a command refusing a bad scenario none of the machinery it would have run (the refusal
costs what ``cartsim check`` costs); ``report`` refusing a folder without a manifest none of them,
nor the scenario's validation (``import cartsim`` imports its names when first used). Imports
are read from ``python -X importtime``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from builders import BASELINE, CLI, ROOT, assert_user_error

HEAVY = ("pandas", "pyarrow", "plotly", "simpy", "distributed", "jinja2")


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The command's result (stderr without the import lines) and the top-level packages it
    imported."""
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [CLI[0], "-X", "importtime", *CLI[1:], *args],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False,
    )  # fmt: skip
    lines = done.stderr.splitlines()
    timed = [line for line in lines if line.startswith("import time:")]
    names = {line.split("|")[-1].strip().split(".")[0] for line in timed}
    rest = "\n".join(line for line in lines if line not in timed)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout, rest), names


def test_check_imports_no_heavy_library() -> None:
    result, names = imported("check", str(BASELINE))
    assert result.returncode == 0, result.stderr
    assert "cartsim" in names and "numpy" in names  # the import lines were read
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["psa", "--iterations", "2"],
        ["dsa"],
        ["sweep", "--vary", "run.seed=1,2"],
        ["scenarios"],
        ["threshold", "--parameter", "cost_leukapheresis_session", "--arm", "cart"],
        ["compare", str(BASELINE)],
    ],
    ids=lambda c: c[0],
)
def test_a_refused_scenario_is_refused_before_the_machinery_is_imported(
    command: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {json.dumps(str(BASELINE))}\nrun: {{replications: 0}}\n", "utf-8")
    result, names = imported(command[0], str(bad), *command[1:], "--out", str(tmp_path / "out"))
    assert_user_error(result, "replications")
    assert "cartsim" in names  # the import lines were read
    assert not names & set(HEAVY), sorted(names & set(HEAVY))
    assert not (tmp_path / "out").exists()


def test_report_refuses_a_folder_without_manifest_before_any_heavy_import(tmp_path: Path) -> None:
    result, names = imported("report", str(tmp_path))
    assert_user_error(result, "no manifest.json")
    assert "cartsim" in names  # the import lines were read
    assert not names & {*HEAVY, "scipy"}, sorted(names & {*HEAVY, "scipy"})  # nor the scenario's
