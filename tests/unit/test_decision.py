"""Unit tests for cartsim.decide.incremental."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartsim.decide.incremental import incremental_table, pairwise_table
from cartsim.decide.psa import ceac, evpi
from cartsim.decide.stats import mean_ci, nmb, paired_difference_ci

OFFSETS = np.array([-1.0, 0.0, 1.0])  # zero-mean per-replication noise pattern


def make_summary(means: dict[str, tuple[float, float]], noise: bool = True) -> pd.DataFrame:
    """Three paired replications per arm whose means are exactly ``means``."""
    rows = []
    for k, (arm, (cost, qaly)) in enumerate(means.items()):
        for r, off in enumerate(OFFSETS):
            scale = (k + 1) * off if noise else 0.0
            rows.append(
                {
                    "replication": r,
                    "arm": arm,
                    "cost": cost + 1000.0 * scale,
                    "qaly": qaly + 0.01 * scale,
                }
            )
    return pd.DataFrame(rows)


def records(table: pd.DataFrame, key: str = "arm") -> dict[Any, dict[Any, Any]]:
    """Rows of ``table`` keyed by column ``key`` (in row order)."""
    return {row[key]: row for row in table.to_dict("records")}


# ---------------------------------------------------------------------------------------------
# mean_ci / paired_difference_ci / nmb
# ---------------------------------------------------------------------------------------------


def test_mean_ci_hand_computed() -> None:
    mean, low, high = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t_{0.975, 2} * sd(=1) / sqrt(3)
    assert mean == 2.0
    assert low == pytest.approx(2.0 - half)
    assert high == pytest.approx(2.0 + half)


def test_mean_ci_single_value_has_no_interval() -> None:
    mean, low, high = mean_ci(np.array([4.2]))
    assert mean == 4.2
    assert math.isnan(low) and math.isnan(high)


def test_mean_ci_constant_values_zero_width() -> None:
    assert mean_ci([5.0, 5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)


def test_mean_ci_wider_at_higher_level() -> None:
    x = [0.3, 1.9, 2.2, 4.1, 0.7]
    _, lo95, hi95 = mean_ci(x, 0.95)
    _, lo99, hi99 = mean_ci(x, 0.99)
    assert lo99 < lo95 < hi95 < hi99


def test_mean_ci_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        mean_ci([])
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], level=1.0)
    with pytest.raises(ValueError):
        paired_difference_ci([1.0, 2.0], [1.0])


def test_paired_ci_narrower_than_unpaired_on_correlated_data() -> None:
    rng = np.random.default_rng(20240501)
    n = 30
    common = rng.normal(100_000.0, 20_000.0, n)  # shared replication effect (CRN)
    a = common + 5_000.0 + rng.normal(0.0, 1_000.0, n)
    b = common + rng.normal(0.0, 1_000.0, n)
    mean, low, high = paired_difference_ci(a, b)
    assert mean == pytest.approx(float(np.mean(a - b)))
    assert low < mean < high
    # Unpaired (independent-samples) interval for the same difference.
    se = math.sqrt(np.var(a, ddof=1) / n + np.var(b, ddof=1) / n)
    unpaired_half = 1.96 * se
    assert (high - low) / 2 < unpaired_half / 5


def test_nmb_helper() -> None:
    assert nmb(1000.0, 2.0, 30_000.0) == 59_000.0
    out = nmb(np.array([0.0, 10.0]), np.array([1.0, 1.0]), 20.0)
    np.testing.assert_array_equal(out, [20.0, 10.0])


# ---------------------------------------------------------------------------------------------
# incremental_table
# ---------------------------------------------------------------------------------------------

# SoC is cheapest; aHSCT is extendedly dominated (ICER 120,000 vs SoC > 60,000 of CAR-T vs
# aHSCT); "Other" is dominated by aHSCT only (not a frontier arm); "Other2" is dominated by
# CAR-T. Frontier: SoC -> CAR-T with ICER (160,000 - 40,000) / (7.5 - 6.0) = 80,000.
MIXED = {
    "SoC": (40_000.0, 6.0),
    "aHSCT": (100_000.0, 6.5),
    "CAR-T": (160_000.0, 7.5),
    "Other": (120_000.0, 6.2),
    "Other2": (200_000.0, 7.0),
}


def test_incremental_mixed_statuses() -> None:
    tab = incremental_table(make_summary(MIXED), wtp=100_000.0)
    assert list(tab["arm"]) == ["SoC", "aHSCT", "Other", "CAR-T", "Other2"]  # by cost
    t = records(tab)
    assert t["SoC"]["status"] == "reference"
    assert t["aHSCT"]["status"] == "extendedly dominated"
    assert t["CAR-T"]["status"] == "non-dominated"
    assert t["Other"]["status"] == "dominated"
    assert t["Other2"]["status"] == "dominated"

    assert t["CAR-T"]["comparator"] == "SoC"
    assert t["CAR-T"]["icer"] == pytest.approx(80_000.0)
    assert t["CAR-T"]["delta_cost"] == pytest.approx(120_000.0)
    assert t["CAR-T"]["delta_qaly"] == pytest.approx(1.5)

    assert t["aHSCT"]["comparator"] == "SoC"
    assert math.isnan(t["aHSCT"]["icer"])
    assert t["aHSCT"]["delta_cost"] == pytest.approx(60_000.0)
    assert t["aHSCT"]["delta_qaly"] == pytest.approx(0.5)

    assert pd.isna(t["Other"]["comparator"])
    assert math.isnan(t["Other"]["delta_cost"])
    assert t["Other2"]["comparator"] == "CAR-T"
    assert t["Other2"]["delta_cost"] == pytest.approx(40_000.0)
    assert t["Other2"]["delta_qaly"] == pytest.approx(-0.5)
    for arm in ("SoC", "aHSCT", "Other", "Other2"):
        assert math.isnan(t[arm]["icer"])
    assert pd.isna(t["SoC"]["comparator"])


def test_incremental_all_on_frontier() -> None:
    means = {"SoC": (40_000.0, 6.0), "aHSCT": (70_000.0, 6.5), "CAR-T": (160_000.0, 7.5)}
    t = records(incremental_table(make_summary(means), wtp=50_000.0))
    assert [r["status"] for r in t.values()] == ["reference", "non-dominated", "non-dominated"]
    assert t["aHSCT"]["comparator"] == "SoC"
    assert t["aHSCT"]["icer"] == pytest.approx(60_000.0)
    assert t["CAR-T"]["comparator"] == "aHSCT"
    assert t["CAR-T"]["icer"] == pytest.approx(90_000.0)
    assert all(r["icer"] > 0 for r in t.values() if not math.isnan(r["icer"]))


def test_incremental_extended_dominance_needs_iteration() -> None:
    # ICERs A->B 34, B->C 40, C->D 25: C is dropped first; then B->D is 65 / 2 = 32.5 < 34,
    # so B is dropped too and D is compared with A: 99 / 3 = 33.
    means = {"A": (0.0, 0.0), "B": (34.0, 1.0), "C": (74.0, 2.0), "D": (99.0, 3.0)}
    t = records(incremental_table(make_summary(means, noise=False), wtp=1.0))
    assert [r["status"] for r in t.values()] == [
        "reference",
        "extendedly dominated",
        "extendedly dominated",
        "non-dominated",
    ]
    assert t["B"]["comparator"] == "A"
    assert t["C"]["comparator"] == "A"
    assert t["C"]["delta_cost"] == pytest.approx(74.0)
    assert t["D"]["comparator"] == "A"
    assert t["D"]["icer"] == pytest.approx(33.0)


def test_incremental_collinear_arm_stays_on_frontier() -> None:
    means = {"A": (0.0, 0.0), "B": (10.0, 1.0), "C": (20.0, 2.0)}
    t = records(incremental_table(make_summary(means, noise=False), wtp=1.0))
    assert t["B"]["status"] == "non-dominated"
    assert t["C"]["icer"] == pytest.approx(10.0)


def test_incremental_equal_cost_fewer_qalys_is_dominated() -> None:
    means = {"A": (100.0, 1.0), "B": (100.0, 2.0), "C": (300.0, 3.0)}
    t = records(incremental_table(make_summary(means, noise=False), wtp=1.0))
    assert t["B"]["status"] == "reference"
    assert t["A"]["status"] == "dominated"
    assert t["A"]["comparator"] == "B"
    assert t["C"]["icer"] == pytest.approx(200.0)


def test_incremental_nmb_and_inmb() -> None:
    wtp = 100_000.0
    tab = incremental_table(make_summary(MIXED), wtp=wtp)
    t = records(tab)
    for arm, (cost, qaly) in MIXED.items():
        assert t[arm]["nmb"] == pytest.approx(wtp * qaly - cost)
        assert t[arm]["inmb"] == pytest.approx(
            (wtp * qaly - cost) - (wtp * MIXED["SoC"][1] - MIXED["SoC"][0])
        )
        assert t[arm]["inmb_ci_low"] <= t[arm]["inmb"] <= t[arm]["inmb_ci_high"]
    assert (tab["reference"] == "SoC").all()
    assert t["SoC"]["inmb"] == 0.0

    t2 = records(incremental_table(make_summary(MIXED), wtp=wtp, reference="CAR-T"))
    assert t2["CAR-T"]["inmb"] == 0.0
    assert t2["SoC"]["inmb"] == pytest.approx(-30_000.0)
    assert t2["SoC"]["status"] == "reference"  # frontier status does not depend on it


def test_incremental_ci_columns_and_bracketing() -> None:
    tab = incremental_table(make_summary(MIXED), wtp=100_000.0)
    for col in ("cost", "qaly", "nmb", "delta_cost", "delta_qaly"):
        sub = tab.dropna(subset=[col])
        assert (sub[f"{col}_ci_low"] <= sub[col]).all()
        assert (sub[col] <= sub[f"{col}_ci_high"]).all()
    # CAR-T vs SoC: per-replication cost differences are 120,000 + 2,000 * offset.
    t = records(tab)
    half = 4.302652729911275 * 2_000.0 / math.sqrt(3)
    assert t["CAR-T"]["delta_cost_ci_low"] == pytest.approx(120_000.0 - half)
    assert t["CAR-T"]["delta_cost_ci_high"] == pytest.approx(120_000.0 + half)


def test_incremental_input_validation() -> None:
    df = make_summary(MIXED)
    with pytest.raises(ValueError, match="exactly one row"):
        incremental_table(df.iloc[1:], wtp=1.0)
    with pytest.raises(ValueError, match="more than one row"):
        incremental_table(pd.concat([df, df.iloc[:1]]), wtp=1.0)
    with pytest.raises(ValueError, match="lacks column"):
        incremental_table(df.drop(columns="qaly"), wtp=1.0)
    with pytest.raises(ValueError, match="not one of the arms"):
        incremental_table(df, wtp=1.0, reference="nope")


def test_incremental_row_order_does_not_matter() -> None:
    df = make_summary(MIXED)
    a = incremental_table(df, wtp=80_000.0)
    b = incremental_table(df.sample(frac=1.0, random_state=3), wtp=80_000.0)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------
# pairwise_table and ICER sign conventions
# ---------------------------------------------------------------------------------------------


def test_pairwise_icer_sign_conventions() -> None:
    means = {
        "base": (100.0, 10.0),
        "ne": (200.0, 11.0),  # more costly, more QALYs: positive ICER
        "se": (50.0, 12.0),  # dominant: negative ICER
        "nw": (150.0, 9.0),  # dominated: negative ICER
        "sw": (60.0, 9.5),  # cheaper, fewer QALYs: positive ICER
        "flat": (130.0, 10.0),  # no QALY difference: ICER undefined
    }
    df = make_summary(means, noise=False)
    pairs = [(arm, "base") for arm in means if arm != "base"]
    t = records(pairwise_table(df, wtp=100.0, pairs=pairs), "intervention")
    assert all(r["comparator"] == "base" for r in t.values())
    assert t["ne"]["icer"] == pytest.approx(100.0) and t["ne"]["quadrant"] == "NE"
    assert t["se"]["icer"] == pytest.approx(-25.0) and t["se"]["quadrant"] == "SE"
    assert t["nw"]["icer"] == pytest.approx(-50.0) and t["nw"]["quadrant"] == "NW"
    assert t["sw"]["icer"] == pytest.approx(80.0) and t["sw"]["quadrant"] == "SW"
    assert math.isnan(t["flat"]["icer"]) and t["flat"]["quadrant"] == "NW"
    assert t["ne"]["delta_cost"] == pytest.approx(100.0)
    assert t["ne"]["delta_qaly"] == pytest.approx(1.0)
    assert t["ne"]["inmb"] == pytest.approx(0.0)
    assert t["se"]["inmb"] == pytest.approx(250.0)


def test_pairwise_default_pairs_against_cheapest() -> None:
    t = pairwise_table(make_summary(MIXED), wtp=100_000.0)
    assert list(t["comparator"].unique()) == ["SoC"]
    assert sorted(t["intervention"]) == sorted(a for a in MIXED if a != "SoC")
    row = records(t, "intervention")["aHSCT"]
    assert row["icer"] == pytest.approx(120_000.0)
    assert row["delta_cost_ci_low"] <= row["delta_cost"] <= row["delta_cost_ci_high"]
    t2 = pairwise_table(make_summary(MIXED), wtp=100_000.0, reference="CAR-T")
    assert list(t2["comparator"].unique()) == ["CAR-T"]


def test_pairwise_reversed_pair_flips_sign() -> None:
    df = make_summary(MIXED)
    t = pairwise_table(df, 100_000.0, pairs=[("CAR-T", "aHSCT"), ("aHSCT", "CAR-T")])
    fwd, rev = t.to_dict("records")
    assert fwd["delta_cost"] == pytest.approx(-rev["delta_cost"])
    assert fwd["inmb"] == pytest.approx(-rev["inmb"])
    assert fwd["icer"] == pytest.approx(rev["icer"])
    with pytest.raises(ValueError):
        pairwise_table(df, 1.0, pairs=[("SoC", "SoC")])


# ---------------------------------------------------------------------------------------------
# CEAC and EVPI
# ---------------------------------------------------------------------------------------------


def make_psa(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = {"SoC": (40_000.0, 6.0), "aHSCT": (90_000.0, 6.6), "CAR-T": (160_000.0, 7.4)}
    frames = []
    for arm, (cost, qaly) in arms.items():
        frames.append(
            pd.DataFrame(
                {
                    "iteration": np.arange(n),
                    "arm": arm,
                    "cost": rng.normal(cost, 15_000.0, n),
                    "qaly": rng.normal(qaly, 0.5, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


GRID = np.linspace(0.0, 300_000.0, 31)


def test_ceac_probabilities_valid() -> None:
    out = ceac(make_psa(), GRID)
    assert list(out.columns) == [
        "wtp",
        "arm",
        "probability_cost_effective",
        "probability_se",
        "expected_nmb",
        "on_frontier",
    ]
    assert len(out) == GRID.size * 3
    p = out["probability_cost_effective"]
    assert ((p >= 0.0) & (p <= 1.0)).all()
    sums = out.groupby("wtp")["probability_cost_effective"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert (out.groupby("wtp")["on_frontier"].sum() == 1).all()
    # At wtp = 0 the cheapest arm is on the frontier and nearly always cost-effective.
    first = records(out[out["wtp"] == 0.0])
    assert bool(first["SoC"]["on_frontier"])
    assert first["SoC"]["probability_cost_effective"] > 0.9


def test_ceac_frontier_is_max_expected_nmb() -> None:
    psa = make_psa()
    out = ceac(psa, GRID)
    means = psa.groupby("arm")[["cost", "qaly"]].mean()
    for w, grp in out.groupby("wtp"):
        expected = float(w) * means["qaly"] - means["cost"]
        assert grp.loc[grp["on_frontier"], "arm"].item() == expected.idxmax()
        np.testing.assert_allclose(
            grp.set_index("arm")["expected_nmb"].loc[expected.index], expected.to_numpy()
        )


def test_ceac_ties_split_evenly() -> None:
    psa = pd.DataFrame(
        {
            "iteration": [0, 0, 1, 1],
            "arm": ["A", "B", "A", "B"],
            "cost": [100.0, 100.0, 100.0, 50.0],
            "qaly": [1.0, 1.0, 1.0, 1.0],
        }
    )
    out = records(ceac(psa, [0.0]))
    assert out["A"]["probability_cost_effective"] == pytest.approx(0.25)
    assert out["B"]["probability_cost_effective"] == pytest.approx(0.75)


def test_evpi_hand_computed() -> None:
    # At wtp 0, NMB = -cost: A = [10, 0], B = [0, 20]. E[max] = 15, max E = 10 -> EVPI 5.
    psa = pd.DataFrame(
        {
            "iteration": [0, 0, 1, 1],
            "arm": ["A", "B", "A", "B"],
            "cost": [-10.0, 0.0, 0.0, -20.0],
            "qaly": [0.0, 0.0, 0.0, 0.0],
        }
    )
    out = evpi(psa, [0.0, 1000.0], population=250.0)
    assert list(out.columns) == [
        "wtp",
        "evpi_per_patient",
        "evpi_population",
        "evpi_se_per_patient",
        "evpi_se_population",
    ]
    assert out["evpi_per_patient"].tolist() == pytest.approx([5.0, 5.0])
    # opportunity losses 10 and 0: standard error sd / sqrt(2) = 5
    assert out["evpi_se_per_patient"].tolist() == pytest.approx([5.0, 5.0])
    assert out["evpi_se_population"].tolist() == pytest.approx([1250.0, 1250.0])
    assert out["evpi_population"].tolist() == pytest.approx([1250.0, 1250.0])


def test_evpi_non_negative_and_zero_when_one_arm_always_wins() -> None:
    psa = make_psa()
    out = evpi(psa, GRID, population=1000.0)
    assert (out["evpi_per_patient"] >= 0.0).all()
    assert out["evpi_per_patient"].max() > 0.0
    np.testing.assert_allclose(out["evpi_population"], 1000.0 * out["evpi_per_patient"])

    # CAR-T is cheaper and more effective than every other arm in every iteration.
    dom = psa.copy()
    is_cart = dom["arm"] == "CAR-T"
    dom.loc[is_cart, "cost"] = psa["cost"].min() - 1.0
    dom.loc[is_cart, "qaly"] = 100.0
    out_dom = evpi(dom, GRID)
    assert (out_dom["evpi_per_patient"] == 0.0).all()
    c = ceac(dom, GRID)
    assert (c.loc[c["arm"] == "CAR-T", "probability_cost_effective"] == 1.0).all()


@settings(max_examples=50, deadline=None)
@given(
    n_iter=st.integers(1, 6),
    n_arm=st.integers(2, 4),
    data=st.data(),
)
def test_ceac_evpi_properties(n_iter: int, n_arm: int, data: st.DataObject) -> None:
    vals = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
    n = n_iter * n_arm
    psa = pd.DataFrame(
        {
            "iteration": np.repeat(np.arange(n_iter), n_arm),
            "arm": [f"arm{k}" for k in range(n_arm)] * n_iter,
            "cost": data.draw(st.lists(vals, min_size=n, max_size=n)),
            "qaly": data.draw(st.lists(st.floats(0.0, 30.0), min_size=n, max_size=n)),
        }
    )
    grid = np.array([0.0, 20_000.0, 100_000.0])
    c = ceac(psa, grid)
    p = c["probability_cost_effective"]
    assert ((p >= 0.0) & (p <= 1.0 + 1e-12)).all()
    np.testing.assert_allclose(c.groupby("wtp")["probability_cost_effective"].sum(), 1.0)
    e = evpi(psa, grid)
    assert (e["evpi_per_patient"] >= 0.0).all()


def test_ceac_standard_error_is_binomial() -> None:
    # B wins 3 of 4 iterations at any wtp (QALYs equal): p = 0.75, se = sqrt(0.75 * 0.25 / 4)
    psa = pd.DataFrame(
        {
            "iteration": np.repeat([0, 1, 2, 3], 2),
            "arm": ["A", "B"] * 4,
            "cost": [0.0, -1.0, 0.0, -1.0, 0.0, -1.0, 0.0, 1.0],
            "qaly": 0.0,
        }
    )
    out = ceac(psa, [0.0]).set_index("arm")
    assert out.loc["B", "probability_cost_effective"] == pytest.approx(0.75)
    assert out.loc["B", "probability_se"] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))
