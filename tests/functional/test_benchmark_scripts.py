"""The PSA profile script measures the units it runs: every stage of the data flow gets time.

A unit run lazily (a generator left untaken) would print zero for every stage; these runs are
a few iterations, so only that the figures are there is checked, never how large they are.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "profile_psa.py"


def stage_figures(*args: str) -> dict[str, float]:
    """The script's table: each stage's first figure (ms per iteration, or share in %)."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "3", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=True,
    )  # fmt: skip
    rows = [line.rsplit(maxsplit=2 if "--clock" in args else 1)
            for line in done.stdout.splitlines()[1:] if line.strip()]  # fmt: skip
    return {row[0].strip(): float(row[1].rstrip("%")) for row in rows}


def test_every_stage_of_a_unit_takes_time() -> None:
    figures = stage_figures("--clock")
    stages = [label for label in figures if not label.startswith(("a PSA unit", "of all"))]
    assert len(stages) >= 8
    assert all(figures[label] > 0 for label in stages), figures


def test_the_profiled_stages_cover_most_of_a_unit() -> None:
    """Shares are whole percents (a small stage may round to 0): their sum is what counts."""
    figures = stage_figures()
    stages = [label for label in figures if not label.startswith("of all")]
    assert len(stages) >= 8
    assert sum(figures[label] for label in stages) > 50, figures
