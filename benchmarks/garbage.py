"""Reference cycles left by a simulation: objects the cyclic garbage collector must find.

Usage: ``python benchmarks/garbage.py [--referrals 20000]``. Runs one replication of the
baseline scaled to about ``--referrals`` referrals with journeys started by
:func:`cartsim.engine.pathway.start`, then with a closure-based start (the former
implementation, kept here as the pinned slow path), and prints the objects ``gc.collect()``
frees after each and their ratio. Counts, not seconds: the figure does not depend on machine load.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import simpy

from cartsim.engine import model, pathway
from cartsim.inputs import loading

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import ROOT, scaled  # noqa: E402


def closure_start(journey: pathway.Journey) -> None:
    """The former ``start``: a closure that refers to itself through its callback."""

    def resume(_event: simpy.Event | None) -> None:
        try:
            target = next(journey)
        except StopIteration:
            return
        target.callbacks.append(resume)

    resume(None)


def garbage_after_run(referrals: int) -> tuple[int, int]:
    scenario = loading.load(ROOT / "scenarios" / "baseline.yaml", scaled(referrals)).build()
    gc.collect()
    gc.disable()  # count what is left, rather than what automatic collections found on the way
    run = model.run_replication(scenario, 0)
    patients = run.cohort.size
    del run
    freed = gc.collect()
    gc.enable()
    return freed, patients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=20000)
    referrals = parser.parse_args().referrals
    now, patients = garbage_after_run(referrals)
    model.start = closure_start  # type: ignore[assignment]
    before, _ = garbage_after_run(referrals)
    print(f"patients referred: {patients}")
    print(f"objects freed by gc.collect(): closure start {before}, current start {now}")
    print(f"ratio closure/current: {before / max(now, 1):.1f}")


if __name__ == "__main__":
    main()
