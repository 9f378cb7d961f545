"""Import time of each command, as ``python -X importtime -m cartsim <command>`` reports it.

Usage: ``python benchmarks/startup.py [--repeat 3]``. Each command runs ``--repeat`` times as its
own interpreter; the figures are the smallest total of the top-level imports (wall microseconds
summed from ``-X importtime``) and the smallest CPU time of the whole command (user + system: the
figure to trust on a loaded machine), printed with the heavy libraries the command loaded and the
ratio of ``cartsim check``'s import time to its 0.4 s budget.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "baseline.yaml")
HEAVY = ("pandas", "pyarrow", "plotly", "jinja2", "sklearn", "distributed", "simpy")
COMMANDS = {"check": ["check", SCENARIO], "schema": ["schema"], "help": ["--help"]}
BUDGET_S = 0.4  # import time allowed to ``cartsim check``


def import_seconds(arguments: list[str]) -> tuple[float, float, list[str]]:
    """Total top-level import time (s) of one command, its CPU seconds, and the heavy libraries
    it imported."""
    command = [sys.executable, "-X", "importtime", "-m", "cartsim", *arguments]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total, loaded = 0, set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, field = line.split("|")
        name = field.strip()
        if field[1] != " ":  # a top-level import (nested ones are indented)
            total += int(cumulative.strip())
        if name.split(".")[0] in HEAVY:
            loaded.add(name.split(".")[0])
    return total / 1e6, cpu, sorted(loaded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'command':>8} {'imports s':>10} {'CPU s':>6}  heavy libraries imported")
    best: dict[str, float] = {}
    for name, arguments in COMMANDS.items():
        runs = [import_seconds(arguments) for _ in range(args.repeat)]
        best[name] = min(seconds for seconds, _, _ in runs)
        cpu = min(c for _, c, _ in runs)
        print(f"{name:>8} {best[name]:>10.3f} {cpu:>6.2f}  {', '.join(runs[0][2]) or '-'}")
        sys.stdout.flush()
    print(f"ratio: check imports / {BUDGET_S} s budget = {best['check'] / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()
