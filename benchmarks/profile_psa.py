"""Where the CPU of a PSA iteration of ``cart_vs_asct.yaml`` goes, by stage of the data flow.

Usage: ``python benchmarks/profile_psa.py [--iterations 100]``. Runs that many PSA work units
(:func:`cartsim.runs.analyses.psa_unit`, one replication each) under :mod:`cProfile` and prints
each stage's share of the profiled time (cumulative time of the function that owns the stage).
The profiler weighs Python calls more than numpy's own loops, so the shares are a guide to where
to look, not a measurement of speed (``benchmarks/psa.py`` measures that).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from pathlib import Path

from cartsim.inputs import loading
from cartsim.runs.analyses import psa_unit

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "cart_vs_asct.yaml"
STAGES = {  # (module path ending, function name): what it does
    ("runs/draws.py", "scenario"): "parameter draws and the validated scenario",
    ("engine/model.py", "run_replication"): "event simulation (cohort, plans, SimPy)",
    ("evaluate/derive.py", "patient_columns"): "patients' columns from the event log",
    ("evaluate/derive.py", "stage_starts"): "stage starts from the event log",
    ("evaluate/course.py", "clinical_course"): "clinical course (response, relapse, death)",
    ("evaluate/cashflows.py", "course"): "cash flows of every patient",
    ("evaluate/economics.py", "evaluate"): "economic evaluation (discounted sums)",
    ("evaluate/derive.py", "resource_series"): "daily resource series (utilisation)",
    ("evaluate/derive.py", "daily_utilisation"): "daily resource series (utilisation)",
    ("engine/streams.py", "uniforms"): "  of all the above: named random streams",
    ("engine/streams.py", "uniforms_of"): "  of all the above: named random streams",
    ("engine/streams.py", "first_uniforms"): "  of all the above: named random streams",
    ("engine/mortality.py", "death_years"): "  of all the above: death times",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    source = loading.load(SCENARIO)
    psa_unit(source, args.iterations, 0)  # warm-up: first use of every module
    profile = cProfile.Profile()
    profile.enable()
    for iteration in range(args.iterations):
        psa_unit(source, iteration, 0)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(t for (_, _, name), (_, _, _, t, _) in stats.items() if name == "psa_unit")
    print(f"{'stage':50s} {'share':>6s}")
    shares: dict[str, float] = {}  # a label may sum several functions
    for (path, function), label in STAGES.items():
        shares[label] = shares.get(label, 0.0) + sum(
            cumulative
            for (file, _, name), (_, _, _, cumulative, _) in stats.items()
            if name == function and file.replace("\\", "/").endswith(path)
        )
    for label, seconds in shares.items():
        print(f"{label:50s} {seconds / total:6.0%}")


if __name__ == "__main__":
    main()
