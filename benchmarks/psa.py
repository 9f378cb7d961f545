"""PSA of ``cart_vs_asct.yaml``: iterations per CPU-second, and the CPU of each executor.

Usage: ``python benchmarks/psa.py [--iterations 1000] [--replications 1] [--executors 1000]``.

1. In this process, the PSA work units of ``--iterations`` draws run twice: through
   :func:`cartsim.runs.analyses.psa_unit` and through the pinned slow path below (each unit
   draws its parameters one iteration at a time and builds and validates its scenario, as
   before batching). Both must give identical rows; the ratio of their iterations per
   CPU-second is printed.
2. ``cartsim psa`` of ``--executors`` iterations runs serially, in 2 local processes and on a
   2-worker Dask LocalCluster, each as its own command; their CPU (user + system of the command
   and every process it started) and the ratio Dask / processes are printed, and the ``psa``
   tables must be identical.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cartsim.inputs import loading
from cartsim.runs.analyses import arm_summary, draw_parameters, psa_unit
from cartsim.runs.jobs import Rows

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cart_vs_asct.yaml"


def slow_unit(source: loading.ScenarioSource, iteration: int, replication: int) -> Rows:
    """The pinned slow path: one draw, one validated build, one replication per unit."""
    scenario = source.build(draw_parameters(source, iteration))
    rows = arm_summary(scenario, replication, iteration)
    return [{"iteration": iteration, **row} for row in rows]


def units_cpu(iterations: int, replications: int) -> None:
    source = loading.load(SCENARIO)
    units = [(i, r) for i in range(iterations) for r in range(replications)]
    timings, results = {}, {}
    for name, func in (("slow path", slow_unit), ("psa_unit", psa_unit)):
        start = time.process_time()
        results[name] = [row for unit in units for row in func(source, *unit)]
        timings[name] = time.process_time() - start
    same = pd.DataFrame(results["slow path"]).equals(pd.DataFrame(results["psa_unit"]))
    print(f"{'path':>12} {'CPU s':>8} {'iter/CPU-s':>11}")
    for name, seconds in timings.items():
        print(f"{name:>12} {seconds:>8.2f} {iterations / seconds:>11.2f}")
    print(f"ratio: {timings['slow path'] / timings['psa_unit']:.2f}x iterations per CPU-second")
    print(f"identical rows: {same}")
    if not same:
        sys.exit(1)


def command_cpu(iterations: int, options: list[str]) -> tuple[float, float, pd.DataFrame]:
    """Wall seconds, CPU seconds (the command and all it started) and the ``psa`` table."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "cartsim.cli", "psa", str(SCENARIO)]
        command += ["--iterations", str(iterations), "--out", out, "--overwrite", *options]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        table = pd.read_parquet(Path(out) / "psa.parquet")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, table


def executors_cpu(iterations: int) -> None:
    settings = {
        "serial": ["--workers", "1"],
        "2 processes": ["--workers", "2"],
        "Dask (2)": ["--workers", "2", "--scheduler", "local"],
    }
    print(f"{'executor':>12} {'wall s':>8} {'CPU s':>8}")
    cpu, tables = {}, {}
    for name, options in settings.items():
        wall, cpu[name], tables[name] = command_cpu(iterations, options)
        print(f"{name:>12} {wall:>8.1f} {cpu[name]:>8.1f}")
        sys.stdout.flush()
    print(f"ratio: Dask CPU / processes CPU = {cpu['Dask (2)'] / cpu['2 processes']:.2f}")
    same = all(t.equals(tables["serial"]) for t in tables.values())
    print(f"identical psa tables: {same}")
    if not same:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000, help="draws of the unit timing")
    parser.add_argument("--replications", type=int, default=1, help="replications per draw")
    parser.add_argument("--executors", type=int, default=1000, help="draws per executor (0: skip)")
    args = parser.parse_args()
    units_cpu(args.iterations, args.replications)
    if args.executors:
        executors_cpu(args.executors)


if __name__ == "__main__":
    main()
