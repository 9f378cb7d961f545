"""The test suite's time against a pinned revision's: its wall time and every test's duration.

Usage: ``python benchmarks/suite.py [--pinned 7eb12fe] [--same-options] [--rounds 2]``. The
pinned revision's whole tree is taken from git into a temporary folder and its suite run there
(its own ``src/`` first on the path), then this tree's, each with the pytest options of its own
``make test`` (read from its ``Makefile``) and ``--durations=0``, in this environment; with
``--same-options`` both run with this tree's, so their durations are taken alike (under xdist a
shared fixture's set-up falls to whichever test a worker runs first). A suite that cannot run
stops the benchmark; a failed test is printed and its suite timed all the same. Printed: each
suite's wall time and number of tests, the summed durations of the tests both suites hold, each
suite's slowest test, this tree's tests slower than the pinned suite's slowest, and the ratios.
A suite that grew has more tests to run: the common tests show whether the code under test got
slower. With ``--rounds N`` the pair runs N times, the pinned suite first in odd rounds and this
tree's in even ones (a shared machine's speed drifts), and the medians of the ratios close the
output.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pinned import PINNED, ROOT, pinned_tree  # noqa: E402

DURATION = re.compile(r"^([0-9.]+)s (call|setup|teardown)\s+(\S.*)$")
COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?)")
MAKE_TEST = re.compile(r"^test:.*\n(?:#.*\n|\t.*\n)*?\t\$\(BIN\)/python -m pytest (.*)$", re.M)

Durations = dict[tuple[str, str], float]  # (phase, test id): seconds


def make_test_options(tree: Path) -> list[str]:
    """The pytest options of the ``make test`` of ``tree``."""
    found = MAKE_TEST.search((tree / "Makefile").read_text(encoding="utf-8"))
    if found is None:
        sys.exit(f"no pytest command under the test target of {tree / 'Makefile'}")
    return found[1].split()


def run_suite(tree: Path, options: list[str]) -> tuple[float, Durations, dict[str, int]]:
    """Wall seconds of the suite of ``tree`` run with pytest ``options``, every test's durations
    and the outcome counts; a suite that cannot run stops the benchmark."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [sys.executable, "-m", "pytest", *options, "-p", "no:cacheprovider",
               "--durations=0", "--durations-min=0"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    if done.returncode not in (0, 1) or (done.returncode == 1 and not failed):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        sys.exit(f"the suite of {tree} did not run (exit {done.returncode}):\n{tail}")
    for line in failed:  # timed all the same, and counted among the outcomes
        print(f"{tree.name}: {line}")
    durations: Durations = {}
    for line in done.stdout.splitlines():
        found = DURATION.match(line.strip())
        if found:
            key = (found[2], found[3].strip())
            durations[key] = durations.get(key, 0.0) + float(found[1])
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {kind.rstrip("s"): int(n) for n, kind in COUNTS.findall(tail)}
    return wall, durations, counts


def slowest(durations: Durations) -> tuple[float, str]:
    (phase, test), seconds = max(durations.items(), key=lambda item: item[1])
    return seconds, f"{test} ({phase})"


Suite = tuple[float, Durations, dict[str, int]]


def compare(pinned: str, old: Suite, new: Suite) -> dict[str, float]:
    """Print one pair of runs (as the module says); return its ratios."""
    print(f"{'suite':>12} {'wall s':>8} {'tests':>6}  outcomes")
    for name, (wall, _, counts) in ((pinned, old), ("this tree", new)):
        outcomes = ", ".join(f"{n} {k}" for k, n in counts.items())
        print(f"{name:>12} {wall:>8.1f} {sum(counts.values()):>6}  {outcomes}")
    print(f"ratio: wall time {new[0] / old[0]:.2f} of {pinned}'s")
    common = old[1].keys() & new[1].keys()
    before, after = (sum(d[k] for k in common) for d in (old[1], new[1]))
    tests = len({test for _, test in common})
    print(f"{tests} tests in both ({len(common)} set-up, call and teardown phases): "
          f"{before:.1f} s at {pinned}, {after:.1f} s now, "
          f"ratio {after / before:.2f}")  # fmt: skip
    added = sum(v for k, v in new[1].items() if k not in old[1])
    print(f"tests only in this tree: {added:.1f} s")
    limit, which = slowest(old[1])
    now, which_now = slowest(new[1])
    print(f"slowest at {pinned}: {limit:.2f} s {which}")
    print(f"slowest now: {now:.2f} s {which_now}")
    over = sorted(((v, k) for k, v in new[1].items() if v > limit), reverse=True)
    for seconds, (phase, test) in over:
        then = old[1].get((phase, test))
        since = "added since" if then is None else f"{then:.2f} s then"
        print(f"  over it: {seconds:.2f} s {test} ({phase}; {since})")
    print(f"ratio: slowest now / slowest at {pinned} = {now / limit:.2f}")
    return {"wall": new[0] / old[0], "common": after / before, "slowest": now / limit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pinned", default=PINNED, help="git revision to compare with")
    parser.add_argument(
        "--same-options",
        action="store_true",
        help="run both suites with this tree's make test options (durations run alike)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="pairs of runs, in alternating order (medians)"
    )
    args = parser.parse_args()
    mine = make_test_options(ROOT)
    ratios = []
    with pinned_tree(args.pinned) as tmp:
        if tmp is None:
            sys.exit(f"pinned revision {args.pinned} not in this checkout")
        theirs = mine if args.same_options else make_test_options(tmp)
        for round_ in range(args.rounds):
            if args.rounds > 1:
                first = args.pinned if round_ % 2 == 0 else "this tree"
                print(f"-- round {round_ + 1} of {args.rounds} ({first} first)")
            if round_ % 2 == 0:
                old = run_suite(tmp, theirs)
                new = run_suite(ROOT, mine)
            else:
                new = run_suite(ROOT, mine)
                old = run_suite(tmp, theirs)
            ratios.append(compare(args.pinned, old, new))
    if args.rounds > 1:
        print("medians over the rounds: " + ", ".join(
            f"{k} {statistics.median(r[k] for r in ratios):.2f}" for k in ratios[0]
        ))  # fmt: skip


if __name__ == "__main__":
    main()
