"""Where the CPU of a PSA iteration of ``cart_vs_asct.yaml`` goes, by stage of the data flow.

Usage: ``python benchmarks/profile_psa.py [--iterations 100] [--clock]``. Runs that many PSA
work units (:obj:`cartsim.runs.analyses.psa_unit`, one replication each, in batches of 16 as the
executors hand them out) under :mod:`cProfile` and prints each stage's share of the profiled
time (cumulative time of the function that owns the stage). The profiler weighs Python calls
more than numpy's own loops, so the shares are a guide to where to look, not a measurement of
speed. With ``--clock`` no profiler runs: each stage's function
is wrapped in a clock instead, and its milliseconds per iteration (wall, nested stages counted in
both) are printed with its share of the units' time. ``--scale 0.25,1,4`` runs the units with
the referral window stretched by each factor (the horizon keeps its time after the window) and
prints the microseconds per referred patient of the event simulation and of everything else in
the unit, and lines fitted to them: the fixed cost of a unit, which only batching iterations
(making their cohorts one) could save, and, where ``1`` is among the factors, the speed-up an
iteration of the scenario's own size would get at most if everything outside the event
simulation cost nothing but its share per patient (drawing and validating the parameters
included, so a bound batching cannot reach). ``--together 6`` runs the units in batches of 16
(as the executors hand them to :meth:`cartsim.runs.analyses.PsaUnit.many`) that many rounds,
alternating each arm's course valued alone with the courses of a batch valued together
(:data:`cartsim.runs.arm_results.VALUED_TOGETHER` set to 0 and left as it is), and prints the
milliseconds per iteration of the valuation and of the whole unit, the least and the median of
the rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cartsim.engine import model
from cartsim.inputs import loading
from cartsim.runs import arm_results
from cartsim.runs.analyses import psa_unit
from cartsim.runs.executors import MAX_BATCH

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "cart_vs_asct.yaml"
STAGES = {  # (module path ending, function name): what it does
    ("runs/draws.py", "scenario"): "parameter draws and the validated scenario",
    ("engine/model.py", "run_replication"): "event simulation (cohort, plans, SimPy)",
    ("evaluate/derive.py", "patient_columns"): "patients' columns from the event log",
    ("evaluate/derive.py", "stage_starts"): "stage starts from the event log",
    ("evaluate/course.py", "clinical_course"): "clinical course (response, relapse, death)",
    ("evaluate/cashflows.py", "course"): "cash flows of every patient",
    ("evaluate/economics.py", "evaluate_many"): "economic evaluation (discounted sums)",
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
    parser.add_argument("--clock", action="store_true", help="time stages with a clock")
    parser.add_argument("--scale", default="", help="window factors, comma-separated")
    parser.add_argument("--together", type=int, default=0, help="rounds alone vs together")
    args = parser.parse_args()
    if args.together:
        valued_together(args.iterations, args.together)
        return
    if args.scale:
        per_patient(args.iterations, [float(f) for f in args.scale.split(",")])
        return
    source = loading.load(SCENARIO)
    psa_unit(source, args.iterations, 0)  # warm-up: first use of every module
    if args.clock:
        clocked(source, args.iterations)
        return
    units = [(iteration, 0) for iteration in range(args.iterations)]
    profile = cProfile.Profile()
    profile.enable()
    for first in range(0, args.iterations, MAX_BATCH):  # as the executors hand them out
        list(psa_unit.many(source, units[first : first + MAX_BATCH]))
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(t for (_, _, name), (_, _, _, t, _) in stats.items() if name == "many")
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


def clocked(source: loading.ScenarioSource, iterations: int) -> None:
    """Each stage's wall milliseconds per iteration, its function wrapped in a clock wherever
    it is bound (a module-level name in every cartsim module, or a method of its class)."""
    spent: dict[str, float] = {}
    for (path, function), label in STAGES.items():
        module = importlib.import_module("cartsim." + path.removesuffix(".py").replace("/", "."))
        owner: Any = module
        if not hasattr(module, function):  # a method: the class that defines it
            owner = next(c for c in vars(module).values()
                         if isinstance(c, type) and function in vars(c))  # fmt: skip
        real = getattr(owner, function)
        timed = _clock(real, label, spent)
        if owner is module:
            _rebind(real, timed)
        else:
            setattr(owner, function, timed)
    units = [(iteration, 0) for iteration in range(iterations)]
    start = time.perf_counter()
    for first in range(0, iterations, MAX_BATCH):  # as the executors hand them out
        list(psa_unit.many(source, units[first : first + MAX_BATCH]))
    total = time.perf_counter() - start
    print(f"{'stage':50s} {'ms/iter':>8s} {'share':>6s}")
    print(f"{'a PSA unit (one iteration, every arm)':50s} {total / iterations * 1e3:8.2f} {1:6.0%}")
    for label, seconds in spent.items():
        print(f"{label:50s} {seconds / iterations * 1e3:8.2f} {seconds / total:6.0%}")


def per_patient(iterations: int, factors: list[float]) -> None:
    """Microseconds per referred patient of the simulation and of the rest of a unit, with the
    referral window (and the horizon, one year after it) stretched by each factor."""
    settings = loading.load(SCENARIO).raw["run"]
    window = settings["arrival_window_days"]
    after = settings["horizon_days"] - window  # time to finish the late referrals
    real = model.run_replication
    size: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        run = real(*args, **kwargs)
        size.append(run.cohort.size)
        return run

    spent: dict[str, float] = {}
    timed = _clock(counted, "simulation", spent)
    points: list[tuple[float, float, float]] = []  # (patients, ms, simulation ms) an iteration
    print(f"{'factor':>6s} {'patients':>9s} {'ms/iter':>8s} {'sim us/pt':>10s} {'rest us/pt':>11s}")
    for factor in factors:
        days = round(window * factor)
        source = loading.load(SCENARIO, [f"run.arrival_window_days={days}",
                                         f"run.horizon_days={days + after}"])  # fmt: skip
        psa_unit(source, iterations, 0)  # warm-up
        _rebind(real, timed)
        size.clear()
        spent["simulation"] = 0.0
        start = time.perf_counter()
        for iteration in range(iterations):
            psa_unit(source, iteration, 0)
        total = time.perf_counter() - start
        _rebind(timed, real)
        patients = sum(size)
        sim = spent["simulation"]
        points.append((patients / iterations, total / iterations * 1e3, sim / iterations * 1e3))
        print(f"{factor:6.2f} {patients / iterations:9.0f} {total / iterations * 1e3:8.2f} "
              f"{sim / patients * 1e6:10.1f} {(total - sim) / patients * 1e6:11.1f}")  # fmt: skip
    if len(points) < 2:
        return
    n, total_ms, sim_ms = (np.asarray(column) for column in zip(*points, strict=True))
    per, fixed = np.polyfit(n, total_ms, 1)  # least squares: ms = fixed + per·n
    print(f"fit: {fixed:.1f} ms a unit + {per * 1e3:.1f} us a patient")
    rest_per, rest_fixed = np.polyfit(n, total_ms - sim_ms, 1)
    print(f"fit of the rest: {rest_fixed:.1f} ms a unit + {rest_per * 1e3:.1f} us a patient")
    if 1.0 in factors:  # the scenario's own size: what batching could save at best
        k = factors.index(1.0)
        floor = total_ms[k] - rest_fixed
        print(f"with no fixed cost outside the simulation, an iteration of {n[k]:.0f} patients "
              f"would take {floor:.2f} ms instead of {total_ms[k]:.2f}: "
              f"{total_ms[k] / floor:.2f}x at most")  # fmt: skip


def valued_together(iterations: int, rounds: int) -> None:
    """Milliseconds per iteration of the valuation and of the unit, each arm valued alone
    against a batch's courses valued together, alternating round by round."""
    source = loading.load(SCENARIO)
    psa_unit(source, iterations, 0)  # warm-up
    spent = {"valuation": 0.0}
    timed = {f: _clock(getattr(arm_results, f), "valuation", spent)
             for f in ("evaluate", "evaluate_many")}  # fmt: skip
    limit = arm_results.VALUED_TOGETHER
    units = [(i, 0) for i in range(iterations)]
    times: dict[str, list[tuple[float, float]]] = {"alone": [], "together": []}
    for _ in range(rounds):
        for side in times:
            arm_results.VALUED_TOGETHER = 0 if side == "alone" else limit
            real = {f: getattr(arm_results, f) for f in timed}
            for name, function in timed.items():
                setattr(arm_results, name, function)
            spent["valuation"] = 0.0
            start = time.process_time()
            for first in range(0, iterations, MAX_BATCH):
                list(psa_unit.many(source, units[first : first + MAX_BATCH]))
            total = time.process_time() - start
            for name, function in real.items():
                setattr(arm_results, name, function)
            times[side].append((spent["valuation"], total))
    arm_results.VALUED_TOGETHER = limit
    print(f"{'courses':>9} {'valuation ms/iter':>24} {'unit ms/iter':>20}  (least, median)")
    for side, pairs in times.items():
        valuation, total = ([p[k] * 1e3 / iterations for p in pairs] for k in (0, 1))
        print(f"{side:>9} {min(valuation):11.2f} {statistics.median(valuation):12.2f} "
              f"{min(total):9.2f} {statistics.median(total):10.2f}")  # fmt: skip


def _rebind(real: Callable[..., Any], replacement: Callable[..., Any]) -> None:
    """Put ``replacement`` wherever a cartsim module holds ``real`` under a module-level name."""
    for other in [m for n, m in sys.modules.items() if n.startswith("cartsim")]:
        for name, value in list(vars(other).items()):
            if value is real:
                setattr(other, name, replacement)


def _clock(real: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    spent.setdefault(label, 0.0)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


if __name__ == "__main__":
    main()
