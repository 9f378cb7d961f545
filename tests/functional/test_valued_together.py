"""Courses valued together give the values each gives alone, bit for bit: every arm of a
replication in one pass, the runs of a batch of PSA draws in one pass, a batch split wherever
the patients held reach the limit, and PSA units run a batch at a time (serially or in
processes) give the rows of one unit at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import BASELINE, ROOT, TEST_SEED

from cartsim.engine.model import ReplicationRun, run_replication
from cartsim.evaluate import economics
from cartsim.evaluate.cashflows import Course, Flow, Lump
from cartsim.evaluate.derive import Columns
from cartsim.evaluate.economics import evaluate, evaluate_many
from cartsim.inputs import loading
from cartsim.inputs.clinical import Economics
from cartsim.inputs.scenario import Scenario
from cartsim.inputs.units import DAYS_PER_YEAR
from cartsim.runs import arm_results, executors
from cartsim.runs.analyses import psa_unit
from cartsim.runs.arm_results import ArmResult, arm_course, arm_result, results_of
from cartsim.runs.draws import draw_parameters
from cartsim.runs.executors import run_units

SHORT = [f"run.seed={TEST_SEED}", "run.arrival_window_days=300", "run.horizon_days=700"]
SCENARIOS = {
    "four arms, age norms": ROOT / "scenarios" / "cart_vs_asct.yaml",
    "second treatments": ROOT / "scenarios" / "relapse_retreatment.yaml",
    "baseline": BASELINE,
}


def same(a: ArmResult, b: ArmResult) -> bool:
    """Equal columns (names, order and bytes) and KPIs (NaN equal to NaN)."""
    if list(a.columns) != list(b.columns) or a.measures.keys() != b.measures.keys():
        return False
    for name, column in a.columns.items():
        one, other = np.asarray(column), np.asarray(b.columns[name])
        if one.dtype != other.dtype or one.tobytes() != other.tobytes():
            return False
    return all(
        a.measures[k] == b.measures[k] or (np.isnan(a.measures[k]) and np.isnan(b.measures[k]))
        for k in a.measures
    )


def alone(scenario: Scenario, run: ReplicationRun, summary: bool = True) -> dict[str, ArmResult]:
    """Every arm derived and valued on its own."""
    return {n: arm_result(scenario, run, n, False, False, summary) for n in run.arms}


def draws(path: Path, iterations: range) -> list[Scenario]:
    """The scenarios of PSA draws ``iterations`` of the short run of ``path``."""
    source = loading.load(path, SHORT)
    return [source.build(draw_parameters(source, i)) for i in iterations]


@pytest.mark.parametrize("path", list(SCENARIOS.values()), ids=list(SCENARIOS))
@pytest.mark.parametrize("summary", [True, False], ids=["summary", "full"])
def test_arms_valued_together_equal_each_alone(path: Path, summary: bool) -> None:
    scenario = loading.load(path, SHORT).build()
    run = run_replication(scenario, 0)
    assert len(run.arms) >= 2 or path == BASELINE
    together = arm_results.run_results(scenario, run, False, False, summary)
    expected = alone(scenario, run_replication(scenario, 0), summary)
    assert list(together) == list(expected)
    assert all(same(together[n], expected[n]) for n in expected)
    assert any(np.any(r.columns["cost_total"] > 0) for r in together.values())


def count_passes(monkeypatch: pytest.MonkeyPatch, limit: int) -> list[int]:
    """Set the limit of patients valued together; the courses of each pass are listed (their
    number) in the list returned as the passes are made."""
    calls: list[int] = []

    def counted(valuations: list[tuple[economics.Course, Economics]]) -> list[Columns]:
        calls.append(len(valuations))
        return evaluate_many(valuations)

    monkeypatch.setattr(arm_results, "VALUED_TOGETHER", limit)
    monkeypatch.setattr(arm_results, "evaluate_many", counted)
    return calls


@pytest.mark.parametrize("split", ["all", "in parts", "some alone", "each alone"])
def test_runs_of_many_draws_valued_together_equal_each_alone(
    split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Draws differ in every price and utility; with a limit below all the runs' patients the
    batch is valued in parts, below some runs' those are valued arm by arm between the others,
    with 0 every arm alone (no pass at all): the results never change, nor their order."""
    scenarios = draws(SCENARIOS["four arms, age norms"], range(6))
    runs = [(s, run_replication(s, 1, draw)) for draw, s in enumerate(scenarios)]
    sizes = [run.cohort.size * len(run.arms) for _, run in runs]
    limit = {"all": sum(sizes), "in parts": max(sizes) + min(sizes) - 1,
             "some alone": sorted(sizes)[len(sizes) // 2], "each alone": 0}[split]  # fmt: skip
    assert max(sizes) <= limit < sum(sizes) if split == "in parts" else True
    alone_runs = [k for k, size in enumerate(sizes) if size > limit]
    assert split != "some alone" or 0 < len(alone_runs) < len(runs) - 1
    assert split != "some alone" or min(alone_runs) < max(set(range(len(runs))) - set(alone_runs))
    expected = [alone(s, run_replication(s, 1, draw)) for draw, s in enumerate(scenarios)]
    calls = count_passes(monkeypatch, limit)
    got = list(results_of(runs, False, False, True))
    assert sum(calls) == 4 * (len(runs) - len(alone_runs))  # a cohort over the limit: no pass
    assert len(got) == len(expected)
    for one, other in zip(got, expected, strict=True):
        assert list(one) == list(other)
        assert all(same(one[n], other[n]) for n in other)


def courses_of(path: Path, draw: int = 0) -> tuple[Scenario, list[economics.Course]]:
    scenario = draws(path, range(draw, draw + 1))[0]
    run = run_replication(scenario, 0, draw)
    return scenario, [c for n in run.arms if (c := arm_course(scenario, run, n)[1]) is not None]


def columns_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return list(a) == list(b) and all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("block", [economics.BLOCK, 1], ids=["stacked", "a flow per block"])
def test_evaluate_many_equals_evaluate_of_each(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Courses of arms with categories the others lack (a column only where the arm has it,
    a total of its own categories) and of patients with several entries in one lump."""
    scenario, courses = courses_of(SCENARIOS["second treatments"])
    _, more = courses_of(SCENARIOS["four arms, age norms"], 3)
    assert scenario.economics is not None
    expected = [evaluate(c, scenario.economics) for c in [*courses, *more]]
    assert len({tuple(sorted(e)) for e in expected}) > 1  # arms with different categories
    monkeypatch.setattr(economics, "BLOCK", block)
    got = evaluate_many([(c, scenario.economics) for c in [*courses, *more]])
    assert all(columns_equal(g, e) for g, e in zip(got, expected, strict=True))
    assert evaluate_many([]) == []


def test_courses_with_other_age_norms_are_valued_apart() -> None:
    scenario, courses = courses_of(SCENARIOS["four arms, age norms"])
    assert scenario.economics is not None and courses[0].norms is not None
    unscaled = [economics.Course(c.arrival, c.end, c.flows, c.lumps) for c in courses]
    got = evaluate_many([(c, scenario.economics) for c in (courses[0], unscaled[0], courses[1])])
    expected = [evaluate(c, scenario.economics) for c in (courses[0], unscaled[0], courses[1])]
    assert all(columns_equal(g, e) for g, e in zip(got, expected, strict=True))
    assert got[0]["qaly_total"].tobytes() != got[1]["qaly_total"].tobytes()


@pytest.fixture(scope="module")
def source() -> loading.ScenarioSource:
    return loading.load(SCENARIOS["four arms, age norms"], ["run.arrival_window_days=200"])


def test_psa_units_in_a_batch_give_the_rows_of_each_alone(source: loading.ScenarioSource) -> None:
    units = [(3, 0), (3, 1), (0, 0), (17, 2), (3, 0)]  # repeated, out of order, across blocks
    assert list(psa_unit.many(source, units)) == [psa_unit(source, *unit) for unit in units]


@pytest.mark.parametrize("workers", [1, 2], ids=["serial", "2 processes"])
def test_executors_run_a_batched_unit_a_batch_at_a_time(
    workers: int, source: loading.ScenarioSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 7 units for the processes (so few units would be sent one by one)."""
    monkeypatch.setattr(executors, "batch_size", lambda units, workers: 7)
    units = [(i, r) for i in range(9) for r in range(2)]
    got = dict(run_units(psa_unit, units, workers, None, (source,)))
    rows = pd.DataFrame([row for k in range(len(units)) for row in got[k]])
    expected = pd.DataFrame([row for unit in units for row in psa_unit(source, *unit)])
    assert rows.equals(expected)  # NaN equal to NaN (not so for floats that were pickled)


class Counted:
    """A unit function that doubles its argument and counts how it was called."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, x: int) -> int:
        self.calls.append(1)
        return 2 * x

    def many(self, batch: list[tuple[int]]) -> list[int]:
        self.calls.append(len(batch))
        return [2 * x for (x,) in batch]


def test_serial_executor_calls_many_a_batch_at_a_time() -> None:
    counted = Counted()
    units = [(x,) for x in range(40)]
    assert dict(run_units(counted, units)) == {k: 2 * k for k in range(40)}
    assert counted.calls == [16, 16, 8]  # batches of consecutive units, none one by one


def test_runs_discounted_differently_are_valued_apart() -> None:
    """A run whose costs and effects are discounted at other rates is valued in a pass of its
    own (one pass per discounting), not at the rates of the runs before it."""
    path = SCENARIOS["four arms, age norms"]
    other = loading.load(
        path,
        [*SHORT, "economics.discount_rate_effects=0.06"],  # costs at the same rate
    ).build()
    scenarios = [*draws(path, range(2)), other]
    runs = [(s, run_replication(s, 0, draw)) for draw, s in enumerate(scenarios)]
    expected = [alone(s, run_replication(s, 0, draw)) for draw, s in enumerate(scenarios)]
    got = list(results_of(runs, False, False, True))
    for one, want in zip(got, expected, strict=True):
        assert all(same(one[n], want[n]) for n in want)


@pytest.mark.parametrize("split", ["all", "in parts", "two runs exactly", "one run exactly"])
def test_a_batch_is_valued_in_as_few_passes_as_the_limit_allows(
    split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs are added to the pass until the next would take it past the limit (then a new pass
    starts, counting from that run's patients)."""
    scenarios = draws(SCENARIOS["four arms, age norms"], range(6))
    repeated = split.endswith("exactly")  # one draw six times: every pass at the limit
    if repeated:
        scenarios = scenarios[:1] * 6
    runs = [(s, run_replication(s, 0, 0 if repeated else draw))
            for draw, s in enumerate(scenarios)]  # fmt: skip
    sizes = [run.cohort.size * len(run.arms) for _, run in runs]
    limit = {"all": sum(sizes), "in parts": max(sizes) + min(sizes) - 1,
             "two runs exactly": 2 * sizes[0], "one run exactly": sizes[0]}[split]  # fmt: skip
    passes, held = 1, 0
    for size in sizes:
        if held + size > limit:
            passes, held = passes + 1, 0
        held += size
    calls = count_passes(monkeypatch, limit)
    assert len(list(results_of(runs, False, False, True))) == len(runs)
    assert len(calls) == passes and sum(calls) == 4 * len(runs)
    assert (passes == 1) == (split == "all")
    assert split != "two runs exactly" or calls == [8, 8, 8]  # each pass two runs' arms
    assert split != "one run exactly" or calls == [4] * 6  # a run at the limit still valued so


def test_lumps_add_to_the_flows_of_their_category_in_order() -> None:
    """By hand: a lump of a category the flows also have adds to their total, lumps of one
    category add one after another (two entries of a patient in one lump first added together),
    each patient in its own course; courses of different sizes valued together."""
    rates = Economics(discount_rate_costs=0.0, discount_rate_effects=0.0)

    def course(n: int, scale: float) -> Course:
        arrival = np.zeros(n)
        flow = Flow("drug", arrival.copy(), np.full(n, DAYS_PER_YEAR), np.full(n, 100.0 * scale))
        lumps = [
            Lump("drug", np.full(n, 10.0), np.full(n, 1.0 * scale)),
            Lump(
                "ward",
                np.array([5.0, 6.0, 7.0]),
                np.array([2.0, 3.0, 2.0**53]) * scale,
                patient=np.array([0, 0, n - 1]),
            ),  # fmt: skip
            Lump("ward", np.full(n, 20.0), np.full(n, 1.0)),
        ]
        return Course(arrival, np.full(n, 2 * DAYS_PER_YEAR), [flow], lumps)

    small, large = course(2, 1.0), course(3, 10.0)
    got = evaluate_many([(c, rates) for c in (small, large, course(1, 0.5))])
    assert got[0]["cost_drug"].tolist() == [101.0, 101.0]
    assert got[0]["cost_ward"].tolist() == [6.0, 2.0**53 + 1.0]  # 2**53 + 1 rounds to 2**53
    assert got[1]["cost_drug"].tolist() == [1010.0] * 3
    assert got[1]["cost_ward"].tolist() == [51.0, 1.0, 10 * 2.0**53]
    assert got[2]["cost_drug"].tolist() == [50.5]
    for one, alone_ in zip(got, [evaluate(c, rates) for c in (small, large, course(1, 0.5))],
                           strict=True):  # fmt: skip
        assert columns_equal(one, alone_)
    assert got[0]["cost_total"].tolist() == [107.0, 101.0 + 2.0**53]
    assert got[0]["cost_undiscounted"].tolist() == [107.0, 101.0 + 2.0**53]


def test_runs_without_economics_are_derived_as_before() -> None:
    """No course to value: every arm derived alone, whatever the limit, and in its place among
    runs whose courses are valued together."""
    source = loading.load(ROOT / "scenarios" / "baseline.yaml", [*SHORT, "economics=null"])
    scenario = source.build()
    assert scenario.economics is None
    valued = draws(SCENARIOS["four arms, age norms"], range(2))
    runs = [(valued[0], run_replication(valued[0], 0, 0)),
            *[(scenario, run_replication(scenario, r)) for r in range(2)],
            (valued[1], run_replication(valued[1], 0, 1))]  # fmt: skip
    got = list(results_of(runs, False, False, True))
    assert [list(one) for one in got] == [list(run.arms) for _, run in runs]
    for (scenario_, run), one in zip(runs, got, strict=True):
        assert all(same(one[n], alone(scenario_, run)[n]) for n in run.arms)
    assert all("cost_total" not in arm.columns for one in got[1:3] for arm in one.values())


def test_the_serial_executor_gives_each_unit_of_a_batch_as_it_is_done() -> None:
    """A batched unit function's results reach the caller one by one: a unit that fails keeps
    the ones before it, as units run one at a time do."""

    class FailsAtThree:
        def __call__(self, x: int) -> int:
            return x

        def many(self, batch: list[tuple[int]]) -> Iterator[int]:
            for (x,) in batch:
                if x == 3:
                    raise RuntimeError("unit 3")
                yield x

    got: list[tuple[int, int]] = []
    with pytest.raises(RuntimeError, match="unit 3"):
        for item in run_units(FailsAtThree(), [(x,) for x in range(10)]):
            got.append(item)
    assert got == [(0, 0), (1, 1), (2, 2)]
