"""Patients simulated per second for the baseline CAR-T pathway, with all tables written.

Usage: ``python benchmarks/throughput.py [--sizes 1000,10000,100000]``. Demand and every
resource capacity are scaled together so that utilisation stays as in the baseline; one
replication, one core; the time includes deriving and writing every table (events included).
Peak memory is the peak resident set size of this process.
"""

from __future__ import annotations

import argparse
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(f"{'referrals':>10} {'patients':>9} {'seconds':>8} {'patients/s':>11}")
    for size in sizes:
        patients, seconds = measure(size)
        print(f"{size:>10} {patients:>9} {seconds:>8.2f} {patients / seconds:>11.0f}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory: {peak_kib / 1024:.0f} MiB (resident set, whole process)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
