"""Import time of each command, as ``python -X importtime -m cartsim <command>`` reports it.

Usage: ``python benchmarks/startup.py [--repeat 3]``. Each command runs ``--repeat`` times as its
own interpreter, after one run that caches the bytecode of cartsim's modules (as an installed
package has it: pip compiles it on install, and Python writes it on an editable install's first
run unless ``PYTHONDONTWRITEBYTECODE`` is set, which these runs unset). The figures are the
smallest total of the top-level imports (wall microseconds summed from ``-X importtime``), the
smallest CPU time of the whole command (user + system: the figure to trust on a loaded machine),
the seconds it takes to compile the sources of the cartsim modules the command imports (what
every run adds where no bytecode is cached), the heavy libraries the command loaded and the
ratio of ``cartsim check``'s import time to its 0.4 s budget. ``run refused`` is ``cartsim run``
of a scenario it refuses (no replication): what a mistake costs before anything runs; ``report
refused`` and ``evppi refused`` are those commands given a folder that holds no run. A command
that does not exit as expected (0, or 2 for a refusal) stops the benchmark.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "baseline.yaml")
HEAVY = ("pandas", "pyarrow", "plotly", "jinja2", "sklearn", "distributed", "simpy")
REFUSED = f"extends: {json.dumps(SCENARIO)}\nrun: {{replications: 0}}\n"  # refused by all
PLACE = "<refused>"  # the scenario above, written to a temporary file, and its folder
COMMANDS = {  # the arguments, and the exit code the command must give
    "check": (["check", SCENARIO], 0),
    "schema": (["schema"], 0),
    "help": (["--help"], 0),
    "run refused": (["run", f"{PLACE}.yaml", "--out", f"{PLACE}-out"], 2),
    "report refused": (["report", f"{PLACE}-out"], 2),  # no run folder there
    "evppi refused": (["evppi", f"{PLACE}-out"], 2),
}
BUDGET_S = 0.4  # import time allowed to ``cartsim check``
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def import_seconds(arguments: list[str], code: int) -> tuple[float, float, list[str], list[str]]:
    """Total top-level import time (s) of one command, its CPU seconds, the heavy libraries it
    imported and the cartsim modules it imported; a command that does not exit with ``code``
    stops the benchmark."""
    command = [sys.executable, "-X", "importtime", "-m", "cartsim", *arguments]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != code:
        errors = [line for line in done.stderr.splitlines() if not line.startswith("import time")]
        sys.exit(f"cartsim {' '.join(arguments)}: exit {done.returncode}, not {code}\n"
                 + "\n".join(errors[-10:]))  # fmt: skip
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total, loaded, own = 0, set(), []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, field = line.split("|")
        name = field.strip()
        if field[1] != " ":  # a top-level import (nested ones are indented)
            total += int(cumulative.strip())
        if name.split(".")[0] in HEAVY:
            loaded.add(name.split(".")[0])
        if name.split(".")[0] == "cartsim":
            own.append(name)
    return total / 1e6, cpu, sorted(loaded), own


def compile_seconds(modules: list[str], repeat: int) -> float:
    """Seconds to compile the sources of ``modules`` (the smallest of ``repeat`` tries)."""
    sources = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            sources.append((spec.origin, Path(spec.origin).read_text(encoding="utf-8")))
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for origin, text in sources:
            compile(text, origin, "exec")
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header = f"{'command':>14} {'imports s':>10} {'CPU s':>6} {'compile s':>10}"
    print(f"{header}  heavy libraries imported")
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        place = str(Path(tmp) / "refused")
        Path(f"{place}.yaml").write_text(REFUSED, encoding="utf-8")
        for name, (arguments, code) in COMMANDS.items():
            filled = [a.replace(PLACE, place) for a in arguments]
            best[name] = report(name, filled, code, args.repeat)
    print(f"ratio: check imports / {BUDGET_S} s budget = {best['check'] / BUDGET_S:.2f}")


def report(name: str, arguments: list[str], code: int, repeat: int) -> float:
    """Print one command's figures; return its smallest import time."""
    import_seconds(arguments, code)  # caches the bytecode of the modules it imports
    runs = [import_seconds(arguments, code) for _ in range(repeat)]
    best = min(seconds for seconds, _, _, _ in runs)
    cpu = min(c for _, c, _, _ in runs)
    compiling = compile_seconds(runs[0][3], repeat)
    heavy = ", ".join(runs[0][2]) or "-"
    print(f"{name:>14} {best:>10.3f} {cpu:>6.2f} {compiling:>10.3f}  {heavy}")
    sys.stdout.flush()
    return best


if __name__ == "__main__":
    main()
