"""Mutation check: apply one-line mutations to core modules and see whether the tests notice.

Each mutant is a copy of ``src/`` with one change (``+``/``-`` or ``*``/``/`` swapped, a
comparison loosened or flipped, a constant changed, a term dropped, ``min``/``max`` swapped),
imported ahead of the installed package through ``PYTHONPATH``. The module's tests run against it
with a timeout: a failure or a timeout kills the mutant. Prints the kill score per module and the
surviving mutants as ``file:line: mutation``.

    .venv/bin/python benchmarks/mutation.py --per-module 40 --seed 1 [--module decide/stats.py]
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cartsim"

# module (under src/cartsim) -> the tests that should notice a change in it
TESTS: dict[str, list[str]] = {
    "evaluate/economics.py": [
        "tests/unit/test_flow_values.py",
        "tests/unit/test_budget.py",
        "tests/functional/test_economics_blocks.py",
        "tests/functional/test_economics.py",
        "tests/functional/test_economics_hand.py",
        "tests/functional/test_economics_planted.py",
        "tests/functional/test_valued_together.py",
        "tests/regression",
    ],
    "evaluate/cashflows.py": [
        "tests/unit/test_flow_values.py",
        "tests/unit/test_budget.py",
        "tests/functional/test_economics_blocks.py",
        "tests/functional/test_economics.py",
        "tests/functional/test_economics_hand.py",
        "tests/functional/test_economics_planted.py",
        "tests/functional/test_relapse_retreatment.py",
        "tests/regression",
    ],
    "evaluate/discounting.py": ["tests/unit/test_discounting.py"],
    "evaluate/course.py": [
        "tests/unit/test_course_functions.py",
        "tests/unit/test_relapse_state_path.py",
        "tests/functional/test_course.py",
        "tests/functional/test_economics_planted.py",
        "tests/functional/test_economics.py",
        "tests/functional/test_relapse_retreatment.py",
        "tests/regression",
    ],
    "evaluate/derive.py": [
        "tests/unit/test_derive.py",
        "tests/unit/test_summary_kpis.py",
        "tests/functional/test_tables.py",
        "tests/functional/test_engine.py",
        "tests/regression",
        "tests/validation/test_queueing_theory.py::test_littles_law_on_the_event_log",
    ],
    "engine/resources.py": [
        "tests/unit/test_resources.py",
        "tests/unit/test_slots_differential.py",
    ],
    "runs/analyses.py": [
        "tests/functional/test_moved_arms.py",
        "tests/functional/test_analyses.py",
        "tests/functional/test_sweep_decisions.py",
        "tests/functional/test_batched_psa.py",
        "tests/functional/test_economics_psa.py",
    ],
    "runs/moved.py": ["tests/functional/test_moved_arms.py"],
    "runs/arm_results.py": [
        "tests/functional/test_valued_together.py",
        "tests/unit/test_summary_kpis.py",
        "tests/functional/test_tables.py",
        "tests/regression",
    ],
    "runs/experiment.py": [
        "tests/unit/test_summary_kpis.py",
        "tests/functional/test_tables.py",
        "tests/functional/test_engine.py",
        "tests/functional/test_randomness.py",
        "tests/regression",
    ],
    "engine/relapse.py": [
        "tests/unit/test_relapse_models.py",
        "tests/functional/test_relapse_retreatment.py",
    ],
    "engine/retreatment.py": ["tests/functional/test_relapse_retreatment.py"],
    "engine/cohort.py": [
        "tests/unit/test_cohort_draws.py",
        "tests/functional/test_relapse_retreatment.py",
        "tests/functional/test_randomness.py",
        "tests/regression",
        "tests/unit/test_soc_switches.py",
    ],
    "engine/eventlog.py": [
        "tests/unit/test_eventlog_chunks.py",
        "tests/unit/test_first_time.py",
        "tests/regression",
    ],
    "engine/streams.py": ["tests/unit/test_streams_seeding.py", "tests/regression"],
    "runs/draws.py": [
        "tests/unit/test_streams_seeding.py",
        "tests/functional/test_batched_psa.py",
        "tests/functional/test_psa_draws.py",
        "tests/functional/test_analyses.py",
        "tests/unit/test_draw_build.py",
    ],
    "engine/mortality.py": [
        "tests/unit/test_death_paths.py",
        "tests/unit/test_mortality.py",
        "tests/unit/test_soc_switches.py",
        "tests/functional/test_course.py",
        "tests/unit/test_excess_mortality.py",
        "tests/functional/test_evidence_mortality.py",
    ],
    "evaluate/retreatment.py": [
        "tests/functional/test_relapse_retreatment.py",
        "tests/unit/test_relapse_state_path.py",
    ],
    "decide/stats.py": ["tests/unit/test_decision.py", "tests/unit/test_stats.py"],
    "decide/capacity.py": ["tests/functional/test_sweep_decisions.py"],
    "decide/threshold.py": [
        "tests/unit/test_threshold.py",
        "tests/functional/test_threshold_study.py",
    ],
    "decide/severity.py": [
        "tests/unit/test_severity.py",
        "tests/functional/test_nice_scenario.py",
    ],
    "decide/incremental.py": [
        "tests/unit/test_quadrants.py",
        "tests/unit/test_decision.py",
        "tests/validation/test_incremental_independent.py",
    ],
    "inputs/money_view.py": ["tests/unit/test_money_view.py", "tests/unit/test_cheers.py"],
    "runs/threshold.py": [
        "tests/functional/test_moved_arms.py",
        "tests/functional/test_threshold_study.py",
        "tests/functional/test_nice_scenario.py::test_a_threshold_price_is_in_pounds_and_breaks_even_when_rerun",
    ],
    "inputs/tree.py": [
        "tests/unit/test_tree.py",
        "tests/unit/test_draw_build.py",
        "tests/unit/test_loading_extends.py",
    ],
    "inputs/threshold_prices.py": [
        "tests/unit/test_threshold_price_refs.py",
        "tests/inputs/test_refusals.py",
    ],
    "inputs/loading.py": [
        "tests/unit/test_loading_overrides.py",
        "tests/inputs",
        "tests/unit/test_draw_build.py",
        "tests/unit/test_tree.py",
        "tests/unit/test_loading_extends.py",
    ],
    "evaluate/kpis.py": [
        "tests/unit/test_kpi_names.py",
        "tests/unit/test_summary_kpis.py",
        "tests/inputs/test_refusals.py",
        "tests/unit/test_period_kpis.py",
    ],
    "engine/model.py": [
        "tests/unit/test_shared_environment.py",
        "tests/inputs/test_semantics.py",
        "tests/unit/test_cohort_draws.py",
        "tests/functional/test_engine.py",
        "tests/functional/test_comparison.py",
        "tests/regression",
    ],
    "engine/routing.py": ["tests/inputs/test_semantics.py"],
    "runs/scenario_analyses.py": [
        "tests/functional/test_moved_arms.py",
        "tests/functional/test_scenario_analyses.py",
    ],
    "inputs/fields.py": [
        "tests/unit/test_time_checks_kept.py",
        "tests/inputs/test_semantics.py",
        "tests/inputs/test_refusals.py",
    ],
}

SWAP_BINOP = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.FloorDiv: "*"}
SWAP_CMP = {
    ast.Lt: "<=",
    ast.LtE: "<",
    ast.Gt: ">=",
    ast.GtE: ">",
    ast.Eq: "!=",
    ast.NotEq: "==",
}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    start: int  # character offsets in the file
    end: int
    text: str
    description: str

    def apply(self, source: str) -> str:
        return source[: self.start] + self.text + source[self.end :]


def _offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def mutants(module: str) -> list[Mutant]:
    """Every one-line mutation of ``module`` this script knows."""
    source = (PACKAGE / module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    starts = _offsets(source)

    def span(node: ast.AST) -> tuple[int, int]:
        return (
            starts[node.lineno - 1] + node.col_offset,  # type: ignore[attr-defined]
            starts[node.end_lineno - 1] + node.end_col_offset,  # type: ignore[attr-defined]
        )

    def seg(node: ast.AST) -> str:
        return ast.get_source_segment(source, node) or ""

    def make(node: ast.AST, text: str, what: str) -> Mutant:
        start, end = span(node)
        return Mutant(module, node.lineno, start, end, text, what)  # type: ignore[attr-defined]

    out: list[Mutant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BINOP:
            new = SWAP_BINOP[type(node.op)]
            left, right = seg(node.left), seg(node.right)
            out.append(make(node, f"({left}) {new} ({right})", f"{seg(node)!r} op -> {new}"))
            if isinstance(node.op, ast.Add | ast.Sub):
                out.append(make(node, f"({left})", f"{seg(node)!r} drop {right!r}"))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAP_CMP:
            new = SWAP_CMP[type(node.ops[0])]
            text = f"({seg(node.left)}) {new} ({seg(node.comparators[0])})"
            out.append(make(node, text, f"{seg(node)!r} -> {new}"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            new = repr(node.value + 1) if node.value in (0, 0.0) else repr(node.value * 2)
            out.append(make(node, new, f"constant {node.value!r} -> {new}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            swap = {"minimum": "maximum", "maximum": "minimum", "min": "max", "max": "min"}
            if name in swap:
                func = node.func
                out.append(
                    make(func, seg(func).replace(name, swap[name]), f"{name} -> {swap[name]}")
                )
        elif isinstance(node, ast.BoolOp):
            new = " or " if isinstance(node.op, ast.And) else " and "
            text = new.join(f"({seg(v)})" for v in node.values)
            out.append(make(node, text, f"{seg(node)!r} -> {new.strip()}"))
    return sorted(out, key=lambda m: (m.line, m.start, m.description))


def run_tests(src: Path, tests: list[str], timeout: float) -> str:
    """``killed``, ``survived`` or ``timeout`` for the source tree ``src``."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT / 'tests'}"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
    cmd += ["-p", "no:xdist"]
    try:
        done = subprocess.run(
            [*cmd, *tests], cwd=ROOT, env=env, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if done.returncode == 0 else "killed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-module", type=int, default=40, help="mutants sampled per module")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per mutant")
    parser.add_argument("--module", action="append", help="only these modules (repeatable)")
    args = parser.parse_args()
    modules = args.module or list(TESTS)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(PACKAGE, src / "cartsim")
        if run_tests(src, sorted({t for m in modules for t in TESTS[m]}), 1800) != "survived":
            sys.exit("the tests fail on the unmutated code")
        survivors: list[Mutant] = []
        scores = []
        for module in TESTS:  # every module draws its sample: a subset gets the same mutants
            every = mutants(module)
            sample = sorted(
                rng.sample(every, min(args.per_module, len(every))), key=lambda m: m.line
            )
            if module not in modules:
                continue
            original = (PACKAGE / module).read_text(encoding="utf-8")
            target = src / "cartsim" / module
            killed, started = 0, time.monotonic()
            for mutant in sample:
                target.write_text(mutant.apply(original), encoding="utf-8")
                outcome = run_tests(src, TESTS[module], args.timeout)
                if outcome == "survived":
                    survivors.append(mutant)
                else:
                    killed += 1
                print(f"  {module}:{mutant.line}: {mutant.description}: {outcome}", flush=True)
            target.write_text(original, encoding="utf-8")
            scores.append((module, killed, len(sample), len(every), time.monotonic() - started))
    print("\nkill score per module (sampled mutants)")
    for module, killed, n, total, seconds in scores:
        score = f"{killed:3}/{n:<3} = {killed / max(n, 1):6.1%}"
        print(f"{module:28} {score}  of {total} ({seconds:.0f} s)")
    total_killed, total_n = sum(s[1] for s in scores), sum(s[2] for s in scores)
    print(f"{'all':28} {total_killed:3}/{total_n:<3} = {total_killed / max(total_n, 1):6.1%}")
    print("\nsurviving mutants")
    for m in survivors:
        print(f"{m.module}:{m.line}: {m.description}")


if __name__ == "__main__":
    main()
