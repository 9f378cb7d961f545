"""Malformed scenarios, generated from a seed, against ``check`` and a one-replication ``run``.

Each case mutates one field of a small valid scenario (or its YAML text, or a ``--set``): wrong
types, NaN and infinities, huge and negative numbers, unknown keys, dates that do not exist, YAML
1.1 words, references to names that do not exist. Every case must end in one of two ways:
``check`` refuses it with exit code 2 and exactly one line (no traceback), or ``check`` accepts it
and a one-replication ``run`` completes. A case known to be invalid must be refused, and no case
may take longer than :data:`CASE_SECONDS`. ``CARTSIM_FUZZ_CASES`` sets the number of cases of the
default test; ``CARTSIM_SLOW=1`` also runs 5,000 cases from another seed.
"""

from __future__ import annotations

import copy
import functools
import os
import random
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.testing
import yaml
from typer.testing import CliRunner

from cartsim.cli import app
from cartsim.report import results

CASES = int(os.environ.get("CARTSIM_FUZZ_CASES", "520"))
SEED = int(os.environ.get("CARTSIM_FUZZ_SEED", "20240221"))
CASE_SECONDS = 30

BASE: dict[str, Any] = {
    "name": "fuzz",
    "run": {"start_date": "2026-01-05", "arrival_window_days": 60, "horizon_days": 120,
            "warmup_days": 0, "replications": 1, "seed": 3},
    "demand": {
        "SLE": {"rate_per_year": 30, "female": 0.9, "flags": {"lung": 0.3},
                "age": {"dist": "normal", "mean": 40, "sd": 10, "low": 18, "high": 70}},
        "SSc": {"rate_per_year": [12], "age": 50},
    },
    "resources": {
        "apheresis": {"capacity": 1, "calendar": {"open_days": ["mon", "tue", "wed"],
                                                  "hours": [8, 16],
                                                  "closed_dates": ["2026-01-06"]}},
        "manufacturing": {"capacity": 2, "cost_per_unit_per_year": 1000},
        "ward_bed": {"capacity": 3},
    },
    "waiting": {"dropout_hazard_per_day": 0.001},
    "comparison": "service_mix",
    "referral_policy": {"default": "cart", "rules": [
        {"arm": "soc", "diseases": ["SSc"], "flags": [], "share": 0.5}]},
    "arms": {
        "cart": {
            "vein_to_vein_from": "apheresis",
            "eligibility": {"diseases": ["SLE", "SSc"], "max_age": 70, "screen_fail": 0.1},
            "stages": [
                {"name": "apheresis", "kind": "activity", "resource": "apheresis",
                 "duration": 0.2},
                {"name": "manufacturing", "kind": "activity", "resource": "manufacturing",
                 "duration": {"dist": "lognormal", "mean": 13, "sd": 3}},
                {"name": "qc_release", "kind": "delay", "duration": 7,
                 "failure": {"probability": 0.05, "back_to": "apheresis", "max_attempts": 2}},
                {"name": "admission", "kind": "inpatient", "resource": "ward_bed",
                 "duration": {"dist": "gamma", "mean": 14, "sd": 4}, "treatment_day": 3,
                 "costs": {"lymphodepletion": 2000}, "cost_per_day": 700},
            ],
            "outcomes": {"SLE": {"response": 0.9, "relapse_hazard_per_year": 0.05}},
        },
        "soc": {"stages": [{"name": "visit", "kind": "delay", "duration": 1}]},
    },
}  # fmt: skip

NUMERIC_BAD = [float("nan"), float("inf"), float("-inf"), 1e308, "12", "yes", "no", "on",
               "off", "1:30", "0x10", True, ["x", "y"], {"zz_unknown": 1}]  # fmt: skip
MAYBE = [-1, -1e-9, 0, 0.5, 1, 2, 7, 1e3, 1e5, 3.7e4, 1e-300, "", None]
NAME_LISTS = ("diseases", "open_days")
REFERENCE_KEYS = {"resource", "back_to", "vein_to_vein_from", "kind", "dist", "arm", "default"}
YAML_TEXTS = [
    "name: a\nname: b\n",
    "a: &a [*a]\n",
    "a: &a {b: *a}\n",
    "x: " + "[" * 5000 + "]" * 5000 + "\n",
    "x: " + "{a: " * 200 + "1" + "}" * 200 + "\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "a: [1, 2\n",
    "\tname: x\n",
    "- 1\n- 2\n",
    "just text\n",
    "a: !!python/object/apply:os.system [ls]\n",
    "a: !!binary aGVsbG8=\n",
    "a: &x [1]\nb: *y\n",
    "l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
    + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)),
]
BINARY_TEXTS = [b"\xff\xfe\x00name: x", b"name: \xc3\x28\n"]


@dataclass
class Case:
    """One generated input: a scenario (text or mapping), ``--set`` options, what it must do."""

    label: str
    data: dict[str, Any] | None = None
    text: str | bytes | None = None
    sets: list[str] = field(default_factory=list)
    invalid: bool = False


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) of a nested mapping, containers included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def generate(rng: random.Random) -> Case:
    """One random case; ``invalid`` is True when the schema must refuse it."""
    paths = [(p, v) for p, v in leaves(BASE) if p]
    kind = rng.choices(
        ["numeric_bad", "maybe", "unknown_key", "reference", "date", "delete", "yaml", "set"],
        weights=[30, 25, 8, 8, 4, 8, 7, 10],
    )[0]
    data = copy.deepcopy(BASE)
    if kind == "numeric_bad":
        path, _ = rng.choice([(p, v) for p, v in paths if is_number(v)])
        value = rng.choice(NUMERIC_BAD)
        set_at(data, path, value)
        return Case(f"{'.'.join(map(str, path))}={value!r}", data=data, invalid=True)
    if kind == "maybe":
        path, _ = rng.choice(paths)
        value = rng.choice(MAYBE)
        set_at(data, path, value)
        return Case(f"{'.'.join(map(str, path))}={value!r} (maybe)", data=data)
    if kind == "unknown_key":
        path, _ = rng.choice([(p, v) for p, v in leaves(BASE) if isinstance(v, dict)])
        target = data
        for key in path:
            target = target[key]
        target["zz_unknown"] = {"bogus": True}
        return Case(f"{'.'.join(map(str, path))}.zz_unknown", data=data, invalid=True)
    if kind == "reference":
        refs = [
            (p, v)
            for p, v in paths
            if isinstance(v, str)
            and (p[-1] in REFERENCE_KEYS or p[-2:-1] in [(n,) for n in NAME_LISTS])
        ]
        path, _ = rng.choice(refs)
        set_at(data, path, "nonexistent_zz")
        return Case(f"{'.'.join(map(str, path))}=nonexistent_zz", data=data, invalid=True)
    if kind == "date":
        value = rng.choice(["2026-02-30", "2026-13-01", "26-01-05", "tomorrow", 20260105])
        where = rng.choice([("run", "start_date"),
                            ("resources", "apheresis", "calendar", "closed_dates", 0)])  # fmt: skip
        set_at(data, where, value)
        return Case(f"{where}={value!r}", data=data, invalid=True)
    if kind == "delete":
        path, _ = rng.choice(paths)
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return Case(f"del {'.'.join(map(str, path))} (maybe)", data=data)
    if kind == "yaml":
        choice = rng.choice([*YAML_TEXTS, *BINARY_TEXTS])
        return Case(f"yaml {str(choice)[:40]!r}", text=choice, invalid=True)
    path, value = rng.choice(paths)
    dotted = ".".join(str(p) for p in path)
    if rng.random() < 0.5:  # a misspelt path
        cut = rng.randrange(len(dotted))
        wrong = dotted[:cut] + "q" + dotted[cut + 1 :]
        return Case(f"--set {wrong}", data=data, sets=[f"{wrong}=2"], invalid=wrong != dotted)
    bad = rng.choice(["nan", ".inf", "1e308", "yes", "1:30", "0x10", "[1, 2", "2026-02-30"])
    return Case(f"--set {dotted}={bad}", data=data, sets=[f"{dotted}={bad}"],
                invalid=is_number(value) or bad in ("[1, 2",))  # fmt: skip


class Hang(Exception):
    """A case ran past its time."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line_error(result: Any) -> bool:
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ")


def run_case(case: Case, folder: Path, runner: CliRunner) -> str:
    """The outcome of one case: refused, ran, traceback, hang, accepted-invalid or run-failed."""
    path = folder / "scenario.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        text = case.text if case.text is not None else yaml.safe_dump(case.data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
    sets = [arg for s in case.sets for arg in ("--set", s)]
    try:
        with time_limit(CASE_SECONDS):
            checked = runner.invoke(app, ["check", str(path), *sets])
            if checked.exception is not None and not isinstance(checked.exception, SystemExit):
                return "traceback"
            if checked.exit_code != 0:
                return "refused" if one_line_error(checked) else "bad-error"
            if case.invalid:
                return "accepted-invalid"
            ran = runner.invoke(app, ["run", str(path), *sets, "--out", str(folder / "out"),
                                      "--no-report", "--no-events", "--overwrite"])  # fmt: skip
            if ran.exception is not None and not isinstance(ran.exception, SystemExit):
                return "traceback"
            return "ran" if ran.exit_code == 0 else "run-failed"
    except Hang:
        return "hang"


def fuzz(cases: int, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``cases`` generated cases; fail on any outcome but a one-line refusal or a run."""
    # the command line is built once, not once per case
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.testing._get_command))
    versions = getattr(results, "package_versions", None)
    if versions is not None:  # the manifest's package versions, read once
        monkeypatch.setattr(results, "package_versions", functools.cache(versions))
    rng = random.Random(seed)
    runner = CliRunner()
    outcomes: Counter[str] = Counter()
    failures = []
    for number in range(cases):
        case = generate(rng)
        folder = tmp_path / f"case{number % 10}"
        folder.mkdir(exist_ok=True)
        outcome = run_case(case, folder, runner)
        outcomes[outcome] += 1
        if outcome not in ("refused", "ran"):
            failures.append(f"{outcome}: {case.label}")
    print(f"fuzz: {cases} cases (seed {seed}), {dict(outcomes)}")
    assert failures == [], failures[:20]
    assert outcomes["refused"] > cases // 2 and outcomes["ran"] > cases // 20  # both paths seen


def test_fuzzed_inputs_are_refused_in_one_line_or_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fuzz(CASES, SEED, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CARTSIM_SLOW"), reason="set CARTSIM_SLOW=1 to run")
def test_many_more_fuzzed_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fuzz(5000, SEED + 1, tmp_path, monkeypatch)
