"""PSA of ``cart_vs_asct.yaml``: iterations per CPU-second, and the CPU of each executor.

Usage: ``python benchmarks/psa.py [--iterations 1000] [--replications 1] [--executors 1000]
[--pinned 7eb12fe] [--rounds 1] [--slices 10]``. With ``--rounds N`` parts 1 and 3 run N times,
alternating between the sides compared, and print the median CPU of each (and every round's).
Part 1 alternates within a round too: the iterations run in ``--slices`` consecutive slices, the
pinned revision and this tree in turn on each, so both meet the same drift of a shared machine's
speed; it prints every round's ratio and the spread of the slice pairs' ratios.

1. The PSA work units of ``--iterations`` draws run through :obj:`cartsim.runs.analyses.psa_unit`
   of this tree and of the pinned revision ``--pinned`` (its ``src/`` taken from git, by default
   the code before economics were valued in blocks), each in a fresh interpreter that times the
   units alone (CPU seconds, imports and a first warm-up unit left out), run by the serial
   executor as ``cartsim psa`` runs them (in batches where the unit function takes a batch at
   once). Both must give identical rows; the ratio of their iterations per CPU-second is printed.
2. In this process, the PSA work units of ``--iterations`` draws run twice: through
   :obj:`cartsim.runs.analyses.psa_unit` and through the pinned slow path below (each unit
   draws its parameters one iteration at a time and builds and validates its scenario, as
   before batching). Both must give identical rows; the ratio of their iterations per
   CPU-second is printed.
3. ``cartsim psa`` of ``--executors`` iterations runs serially, in 2 local processes and on a
   2-worker Dask LocalCluster, each as its own command; their CPU (user + system of the command
   and every process it started) and the ratio Dask / processes are printed, and the ``psa``
   tables must be identical.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cartsim.inputs import loading
from cartsim.runs.analyses import arm_summary, psa_unit
from cartsim.runs.draws import draw_parameters
from cartsim.runs.executors import run_units
from cartsim.runs.jobs import Rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pinned import PINNED, pinned_tree  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cart_vs_asct.yaml"


def slow_unit(source: loading.ScenarioSource, iteration: int, replication: int) -> Rows:
    """The pinned slow path: one draw, one validated build, one replication per unit."""
    scenario = source.build(draw_parameters(source, iteration))
    rows = arm_summary(scenario, replication, iteration)
    return [{"iteration": iteration, **row} for row in rows]


UNITS = """
import sys, time
import pandas as pd
from cartsim.inputs import loading
from cartsim.runs.analyses import psa_unit
from cartsim.runs.executors import run_units
scenario, out = sys.argv[1], sys.argv[5]
first, stop, replications = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
source = loading.load(scenario)
psa_unit(source, stop, 0)  # warm-up: first use of every module
start = time.process_time()
units = [(i, r) for i in range(first, stop) for r in range(replications)]
done = dict(run_units(psa_unit, units, 1, None, (source,)))  # as `cartsim psa` runs them serially
rows = [row for index in range(len(units)) for row in done[index]]
print(time.process_time() - start)
pd.DataFrame(rows).to_parquet(out)
"""


def tree_units(src: Path, first: int, stop: int, replications: int) -> tuple[float, pd.DataFrame]:
    """CPU seconds of the units of iterations ``first`` to ``stop - 1`` run by the package under
    ``src``, and their rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.parquet"
        env = {**os.environ, "PYTHONPATH": str(src)}
        args = [str(SCENARIO), str(first), str(stop), str(replications), str(out)]
        done = subprocess.run([sys.executable, "-c", UNITS, *args], env=env, check=True,
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        return float(done.stdout.split()[-1]), pd.read_parquet(out)


def pinned_cpu(revision: str, iterations: int, replications: int, rounds: int, slices: int) -> None:
    """Iterations per CPU-second of this tree against the pinned revision's.

    Each of ``rounds`` rounds runs the iterations in ``slices`` consecutive slices, the pinned
    revision and this tree in turn on each slice, so both sides meet the same drift of the
    shared machine's speed; a round's ratio is the ratio of its CPU totals. Printed: the median
    CPU of each side, every round's ratio, and the spread of the ratios of the slices' pairs.
    """
    times: dict[str, list[float]] = {revision: [], "this tree": []}
    pairs: list[float] = []
    bounds = [round(k * iterations / slices) for k in range(slices + 1)]
    with pinned_tree(revision, "src") as tmp:
        if tmp is None:
            print(f"pinned revision {revision} not in this checkout: skipped")
            return
        for _ in range(rounds):
            totals, rows = [0.0, 0.0], ([], [])
            for first, stop in zip(bounds, bounds[1:], strict=False):
                sides = []
                for side, src in enumerate((tmp / "src", ROOT / "src")):
                    seconds, part = tree_units(src, first, stop, replications)
                    totals[side] += seconds
                    rows[side].append(part)
                    sides.append(seconds)
                pairs.append(sides[0] / sides[1])
            times[revision].append(totals[0])
            times["this tree"].append(totals[1])
            old, new = (pd.concat(r, ignore_index=True) for r in rows)
    before, after = (statistics.median(t) for t in times.values())
    print(f"{'code':>12} {'CPU s':>8} {'iter/CPU-s':>11}  (median of {rounds}: each round's CPU s)")
    for (name, runs), seconds in zip(times.items(), (before, after), strict=True):
        each = ", ".join(f"{t:.1f}" for t in runs)
        print(f"{name:>12} {seconds:>8.2f} {iterations / seconds:>11.2f}  ({each})")
    per_round = [b / a for b, a in zip(times[revision], times["this tree"], strict=True)]
    print(f"ratio: {before / after:.2f}x iterations per CPU-second of {revision}")
    print(f"  each round: {', '.join(f'{r:.2f}' for r in per_round)}")
    low, _, high = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else [pairs[0]] * 3
    print(f"  {len(pairs)} slice pairs: median {statistics.median(pairs):.2f}, quartiles "
          f"{low:.2f} to {high:.2f}, range {min(pairs):.2f} to {max(pairs):.2f}")  # fmt: skip
    same = old.equals(new)
    print(f"identical rows: {same}")
    if not same:
        sys.exit(1)


def units_cpu(iterations: int, replications: int) -> None:
    source = loading.load(SCENARIO)
    units = [(i, r) for i in range(iterations) for r in range(replications)]
    timings, results = {}, {}
    for name, func in (("slow path", slow_unit), ("psa_unit", psa_unit)):
        start = time.process_time()
        done = dict(run_units(func, units, 1, None, (source,)))  # serially, as `cartsim psa`
        results[name] = [row for index in range(len(units)) for row in done[index]]
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


def executors_cpu(iterations: int, rounds: int) -> None:
    """CPU of the same PSA serially, in 2 processes and on Dask: ``rounds`` runs of each in
    turn, and the median of each."""
    settings = {
        "serial": ["--workers", "1"],
        "2 processes": ["--workers", "2"],
        "Dask (2)": ["--workers", "2", "--scheduler", "local"],
    }
    print(f"{'executor':>12} {'wall s':>8} {'CPU s':>8}  (median of {rounds}: each round's CPU s)")
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    tables = {}
    for _ in range(rounds):
        for name, options in settings.items():
            wall, cpu, tables[name] = command_cpu(iterations, options)
            runs[name].append((wall, cpu))
    cpu = {}
    for name, measured in runs.items():
        wall, cpu[name] = (statistics.median(m[i] for m in measured) for i in (0, 1))
        each = ", ".join(f"{m[1]:.1f}" for m in measured)
        print(f"{name:>12} {wall:>8.1f} {cpu[name]:>8.1f}  ({each})")
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
    parser.add_argument("--pinned", default=PINNED, help="git revision to compare with ('': skip)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs of each (median)")
    parser.add_argument("--slices", type=int, default=10, help="alternating slices of a round")
    args = parser.parse_args()
    if args.pinned:
        pinned_cpu(args.pinned, args.iterations, args.replications, args.rounds, args.slices)
        sys.stdout.flush()
    units_cpu(args.iterations, args.replications)
    sys.stdout.flush()
    if args.executors:
        executors_cpu(args.executors, args.rounds)


if __name__ == "__main__":
    main()
