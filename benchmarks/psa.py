"""Wall time, iterations per second and peak memory of a PSA of ``cart_vs_asct.yaml``.

Usage: ``python benchmarks/psa.py [--iterations 1000] [--workers 1,2]``. Each setting runs
``cartsim psa`` as its own process (a fresh interpreter, like a user's run) into a scratch
folder; peak memory is the largest resident set of that process and its workers (Linux
``ru_maxrss`` of the children). Parallel efficiency is serial time / (workers x parallel time).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(iterations: int, workers: int) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of one PSA run."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "cartsim.cli",
            "psa",
            str(ROOT / "scenarios" / "cart_vs_asct.yaml"),
            "--iterations",
            str(iterations),
            "--workers",
            str(workers),
            "--out",
            out,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seconds, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", default="1000", help="comma-separated iteration counts")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = parser.parse_args()
    header = ("iterations", "workers", "seconds", "iter/s", "efficiency", "peak MiB")
    print(" ".join(f"{h:>10}" for h in header))
    for iterations in (int(i) for i in args.iterations.split(",")):
        serial = None
        for workers in (int(w) for w in args.workers.split(",")):
            seconds, peak = run(iterations, workers)
            if workers == 1:
                serial = seconds
            efficiency = f"{serial / (workers * seconds):.0%}" if serial else "-"
            cells = (
                iterations,
                workers,
                f"{seconds:.1f}",
                f"{iterations / seconds:.1f}",
                efficiency,
            )
            print(" ".join(f"{c:>10}" for c in (*cells, f"{peak:.0f}")))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
