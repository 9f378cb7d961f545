"""Patients simulated per second for the baseline CAR-T pathway, with all tables written.

Usage: ``python benchmarks/throughput.py [--sizes 1000,100000,1000000]``. Demand and every
resource capacity are scaled together so that utilisation stays as in the baseline; one
replication, one core; the time includes deriving and writing every table (events included).
Each size runs in a fresh process; its peak memory is that process's peak resident set size,
printed with its ratio to the 2 GiB budget of a million referrals.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cartsim.decide.stats import summarise
from cartsim.inputs import loading
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.report.results import write_files
from cartsim.runs.experiment import run_replications

ROOT = Path(__file__).resolve().parents[1]


def scaled(referrals: int) -> list[str]:
    """Overrides that give about ``referrals`` referrals with the baseline's utilisation."""
    base = loading.load(ROOT / "scenarios" / "baseline.yaml").build()
    per_year = sum(float(d.rate_per_year) for d in base.demand.values())  # type: ignore[arg-type]
    years = base.run.arrival_window_days / DAYS_PER_YEAR
    factor = referrals / (per_year * years)
    sets = [
        f"demand.{name}.rate_per_year={float(d.rate_per_year) * factor}"
        for name, d in base.demand.items()
    ]  # type: ignore[arg-type]
    sets.append("run.replications=1")  # one is run; the memory check counts the scenario's
    sets += [
        f"resources.{name}.capacity={max(1, round(r.capacity * factor))}"
        for name, r in base.resources.items()
        if r.capacity != "unlimited"
    ]
    return sets


def measure(referrals: int) -> tuple[int, float]:
    scenario = loading.load(ROOT / "scenarios" / "baseline.yaml", scaled(referrals)).build()
    start = time.perf_counter()
    tables = run_replications(scenario, 1, workers=1)
    with tempfile.TemporaryDirectory() as out:
        frames = {
            "events": tables.events,
            "patients": tables.patients,
            "resources": tables.resources,
            "kpis": summarise(tables.metrics),
        }
        write_files(Path(out), frames, {})
    elapsed = time.perf_counter() - start
    return len(tables.patients), elapsed


BUDGET_MIB = 2048  # peak resident set allowed for a million referrals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in this process
    args = parser.parse_args()
    if args.one:
        patients, seconds = measure(args.one)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{args.one} {patients} {seconds} {peak_mib}")
        return
    header = ("referrals", "patients", "seconds", "patients/s", "peak MiB", "of 2 GiB")
    print(" ".join(f"{h:>10}" for h in header))
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size)]
        line = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        _, patients, seconds, peak = line.split()
        cells = (size, patients, f"{float(seconds):.2f}", f"{int(patients) / float(seconds):.0f}")
        cells += (f"{float(peak):.0f}", f"{float(peak) / BUDGET_MIB:.2f}")
        print(" ".join(f"{c:>10}" for c in cells))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
