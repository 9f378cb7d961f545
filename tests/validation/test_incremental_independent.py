"""Check ``incremental_table`` against an independent brute-force frontier.

The reference implementation below does not sort arms or compare ICERs. It uses exact
rational arithmetic and the net-benefit definition of the efficiency frontier: an arm is on
the frontier iff it is not dominated and it maximises NMB = lambda * qaly - cost for at least
one willingness to pay lambda >= 0. Since NMB lines only change order where two of them
cross, it is enough to test lambda = 0, every crossing point, the midpoints between
consecutive crossings and one value beyond the last crossing. ICERs then follow from
consecutive frontier arms (ordered by cost).

Generated data use integer costs (EUR) and QALYs on a 1/16 grid with a power-of-two number of
replications, so the arm means are exact in floating point and ties and collinear arms are
decided identically by both implementations.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cartsim.decide.incremental import incremental_table

Point = tuple[Fraction, Fraction]  # (mean cost, mean qaly)


def brute_force(means: dict[str, Point]) -> dict[str, dict[str, object]]:
    arms = list(means)

    def dominates(i: str, j: str) -> bool:
        (ci, qi), (cj, qj) = means[i], means[j]
        return ci <= cj and qi >= qj and (ci, qi) != (cj, qj)

    dominated = {j: any(dominates(i, j) for i in arms if i != j) for j in arms}

    crossings: set[Fraction] = {Fraction(0)}
    for i in arms:
        for j in arms:
            (ci, qi), (cj, qj) = means[i], means[j]
            if qi != qj:
                lam = (cj - ci) / (qj - qi)
                if lam >= 0:
                    crossings.add(lam)
    ordered = sorted(crossings)
    lambdas = set(ordered)
    lambdas.update((a + b) / 2 for a, b in zip(ordered, ordered[1:], strict=False))
    lambdas.add(ordered[-1] + 1)

    optimal: set[str] = set()  # arms with maximal NMB at some lambda (ties count)
    for lam in lambdas:
        net = {a: lam * means[a][1] - means[a][0] for a in arms}
        top = max(net.values())
        optimal.update(a for a in arms if net[a] == top)

    frontier = [a for a in arms if not dominated[a] and a in optimal]
    frontier.sort(key=lambda a: means[a][0])

    out: dict[str, dict[str, object]] = {}
    for pos, a in enumerate(frontier):
        if pos == 0:
            out[a] = {"status": "reference", "comparator": None, "icer": None}
        else:
            prev = frontier[pos - 1]
            icer = (means[a][0] - means[prev][0]) / (means[a][1] - means[prev][1])
            out[a] = {"status": "non-dominated", "comparator": prev, "icer": icer}
    for a in arms:
        if a in out:
            continue
        if dominated[a]:
            doms = [f for f in frontier if dominates(f, a)]
            best = max(doms, key=lambda f: means[f][1]) if doms else None
            out[a] = {"status": "dominated", "comparator": best, "icer": None}
        else:
            cheaper = [f for f in frontier if means[f][0] < means[a][0]]
            prev = max(cheaper, key=lambda f: means[f][0])
            out[a] = {"status": "extendedly dominated", "comparator": prev, "icer": None}
    return out


def check_agreement(summary: pd.DataFrame, wtp: float = 100_000.0) -> None:
    tab = incremental_table(summary, wtp=wtp).set_index("arm")
    means = arm_means(summary)
    expected = brute_force(means)
    assert set(tab.index) == set(expected)
    for arm, exp in expected.items():
        row = tab.loc[arm]
        assert row["status"] == exp["status"], arm
        if exp["comparator"] is None:
            assert pd.isna(row["comparator"]), arm
            assert math.isnan(row["delta_cost"]), arm
        else:
            comp = str(exp["comparator"])
            assert row["comparator"] == comp, arm
            assert row["delta_cost"] == pytest.approx(float(means[arm][0] - means[comp][0]))
            assert row["delta_qaly"] == pytest.approx(
                float(means[arm][1] - means[comp][1]), abs=1e-12
            )
        if exp["icer"] is None:
            assert math.isnan(row["icer"]), arm
        else:
            assert isinstance(exp["icer"], Fraction)
            assert row["icer"] == pytest.approx(float(exp["icer"]), rel=1e-12), arm
        assert row["nmb"] == pytest.approx(wtp * float(means[arm][1]) - float(means[arm][0]))


def summary_from_means(means: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for k, (arm, (cost, qaly)) in enumerate(means.items()):
        for r, off in enumerate((-1.0, 1.0)):
            rows.append(
                {
                    "replication": r,
                    "arm": arm,
                    "cost": cost + 500.0 * (k + 1) * off,
                    "qaly": qaly + 0.0625 * off,
                }
            )
    return pd.DataFrame(rows)


HAND_MADE = {
    "all frontier": {
        "SoC": (40_000.0, 6.0),
        "aHSCT": (70_000.0, 6.5),
        "CAR-T": (160_000.0, 7.5),
    },
    "extended + dominated": {
        "SoC": (40_000.0, 6.0),
        "aHSCT": (100_000.0, 6.5),
        "CAR-T": (160_000.0, 7.5),
        "Other": (120_000.0, 6.25),
        "Other2": (200_000.0, 7.0),
    },
    "chained extended dominance": {
        "A": (0.0, 0.0),
        "B": (34_000.0, 1.0),
        "C": (74_000.0, 2.0),
        "D": (99_000.0, 3.0),
    },
    "cheapest also most effective": {
        "SoC": (30_000.0, 8.0),
        "aHSCT": (90_000.0, 7.0),
        "CAR-T": (150_000.0, 7.5),
    },
    "collinear and equal cost": {
        "A": (10_000.0, 1.0),
        "B": (20_000.0, 2.0),
        "C": (30_000.0, 3.0),
        "D": (30_000.0, 2.5),
        "E": (5_000.0, 0.5),
    },
    "very high icer": {
        "SoC": (0.0, 5.0),
        "aHSCT": (50_000.0, 5.5),
        "CAR-T": (90_050_000.0, 5.5625),
    },
}


@pytest.mark.parametrize("name", list(HAND_MADE))
def test_hand_made_tables_agree(name: str) -> None:
    check_agreement(summary_from_means(HAND_MADE[name]))


def test_hand_made_statuses_are_as_intended() -> None:
    # Guard against the brute force and the implementation being wrong in the same way.
    out = brute_force(
        {a: (Fraction(c), Fraction(q)) for a, (c, q) in HAND_MADE["extended + dominated"].items()}
    )
    assert {a: v["status"] for a, v in out.items()} == {
        "SoC": "reference",
        "aHSCT": "extendedly dominated",
        "CAR-T": "non-dominated",
        "Other": "dominated",
        "Other2": "dominated",
    }
    assert out["CAR-T"]["icer"] == Fraction(80_000)


@st.composite
def summaries(draw: st.DrawFn) -> pd.DataFrame:
    n_arm = draw(st.integers(3, 6))
    n_rep = draw(st.sampled_from([1, 2, 4, 8]))
    costs = st.lists(st.integers(0, 400), min_size=n_rep, max_size=n_rep)
    qalys = st.lists(st.integers(0, 320), min_size=n_rep, max_size=n_rep)
    frames = [
        pd.DataFrame(
            {
                "replication": range(n_rep),
                "arm": f"arm{k}",
                "cost": [1000.0 * c for c in draw(costs)],
                "qaly": [q / 16.0 for q in draw(qalys)],
            }
        )
        for k in range(n_arm)
    ]
    return pd.concat(frames, ignore_index=True)


def arm_means(summary: pd.DataFrame) -> dict[str, Point]:
    sums: dict[str, list[Fraction]] = {}
    counts: dict[str, int] = {}
    for arm, cost, qaly in zip(summary["arm"], summary["cost"], summary["qaly"], strict=True):
        acc = sums.setdefault(str(arm), [Fraction(0), Fraction(0)])
        acc[0] += Fraction(float(cost))
        acc[1] += Fraction(float(qaly))
        counts[str(arm)] = counts.get(str(arm), 0) + 1
    return {a: (c / counts[a], q / counts[a]) for a, (c, q) in sums.items()}


@settings(max_examples=100, deadline=None)
@given(summary=summaries())
def test_generated_tables_agree(summary: pd.DataFrame) -> None:
    pts = list(arm_means(summary).values())
    assume(len(set(pts)) == len(pts))  # identical arms: tie-break convention, not tested
    check_agreement(summary)


@settings(max_examples=50, deadline=None)
@given(
    extra=st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, 200)), min_size=0, max_size=3, unique=True
    )
)
def test_generated_around_a_fixed_frontier_agree(extra: list[tuple[int, int]]) -> None:
    # A convex three-arm frontier plus random arms, which tend to be (extendedly) dominated.
    means = {"SoC": (40_000.0, 6.0), "aHSCT": (70_000.0, 6.5), "CAR-T": (160_000.0, 7.5)}
    for k, (c, q) in enumerate(extra):
        means[f"x{k}"] = (40_000.0 + c * 500.0, 5.0 + q / 64.0)
    pts = list(means.values())
    assume(len(set(pts)) == len(pts))
    check_agreement(summary_from_means(means))
