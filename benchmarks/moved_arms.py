"""One-way sensitivity and a threshold study rerunning only the arms a value moves, against every
arm rerun: CPU seconds of each, the ratio, and whether the tables are identical.

Usage: ``python benchmarks/moved_arms.py [--scenario scenarios/therapies_2026.yaml]
[--window 200] [--replications 1] [--rounds 2] [--threshold PARAMETER:ARM]``. The scenario runs
with its referral window cut to ``--window`` days (horizon twice that, no warm-up), serially. Each
round runs both sides, in alternating order; the medians of the rounds are printed. "Every arm"
is the same code with :func:`cartsim.runs.moved.moved_arms` answering "every arm" for any
change (as before the moved arms were known); scenario builds and the tornado's arithmetic are
the same on both sides.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from cartsim.inputs import loading
from cartsim.runs import analyses, studies, threshold

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def every_arm() -> Iterator[None]:
    """Every arm rerun whenever a value changes anything."""
    kept = studies.moved_arms, threshold.moved_arms
    studies.moved_arms = threshold.moved_arms = lambda moved, base: () if moved == base else None
    try:
        yield
    finally:
        studies.moved_arms, threshold.moved_arms = kept


def timed(task: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    start = time.process_time()
    table = task()
    return time.process_time() - start, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "therapies_2026.yaml"))
    parser.add_argument("--window", type=float, default=200.0, help="referral window, days")
    parser.add_argument("--replications", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threshold", default="cost_cart_product_academic:cart",
                        help="PARAMETER:ARM of a threshold study ('' for none)")  # fmt: skip
    args = parser.parse_args()
    overrides = [f"run.arrival_window_days={args.window}", f"run.horizon_days={2 * args.window}",
                 "run.warmup_days=0", f"run.replications={args.replications}"]  # fmt: skip
    source = loading.load(Path(args.scenario), overrides)
    scenario = source.build()
    tasks: dict[str, Callable[[], pd.DataFrame]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folders = iter(range(1_000_000))

        def dsa() -> pd.DataFrame:
            folder = Path(scratch) / f"dsa-{next(folders)}"
            return studies.dsa(source, scenario, studies.Execution(folder=folder))

        tasks["one-way sensitivity"] = dsa
        if args.threshold:
            parameter, arm = args.threshold.split(":")
            study = threshold.ThresholdStudy(parameter, arm, max(2, args.replications))
            tasks[f"threshold of {parameter} ({arm})"] = lambda: threshold.threshold_table(
                source, study
            )
        variants = analyses.dsa_variants(source)
        print(f"{Path(args.scenario).name}: {len(scenario.compared_arms)} compared arms, "
              f"{len(variants) - 1} one-way variants, {args.window:g}-day window, "
              f"{args.replications} replication(s), {args.rounds} round(s)")  # fmt: skip
        print(f"{'analysis':45} {'moved arms':>11} {'every arm':>10} {'ratio':>6}  tables")
        for name, task in tasks.items():
            moved, every = [], []
            same = True
            for round_ in range(args.rounds):
                order = ["moved", "every"] if round_ % 2 == 0 else ["every", "moved"]
                tables = {}
                for side in order:
                    if side == "moved":
                        seconds, tables[side] = timed(task)
                        moved.append(seconds)
                    else:
                        with every_arm():
                            seconds, tables[side] = timed(task)
                        every.append(seconds)
                same = same and tables["moved"].equals(tables["every"])
            a, b = statistics.median(moved), statistics.median(every)
            print(f"{name:45} {a:10.1f}s {b:9.1f}s {b / a:5.2f}x  "
                  f"{'identical' if same else 'DIFFERENT'}")  # fmt: skip


if __name__ == "__main__":
    main()
