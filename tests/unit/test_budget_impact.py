"""Net budget impact: paired differences of yearly spend against current practice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartsim.decide.budget_impact import budget_impact, reference_arm


def budget(spend: dict[str, np.ndarray]) -> pd.DataFrame:
    """A budget table from ``arm -> spend[replication, year]``."""
    rows = [
        {"replication": r, "arm": arm, "year": y, "calendar_year": 2026 + y, "cost_total": v[r, y]}
        for arm, v in spend.items()
        for r in range(v.shape[0])
        for y in range(v.shape[1])
    ]
    return pd.DataFrame(rows)


def test_the_impact_is_the_paired_difference_with_its_t_interval() -> None:
    rng = np.random.default_rng(1)
    common = rng.normal(1e6, 2e5, size=(6, 3))  # shared between arms: common random numbers
    soc = common
    cart = common + 50_000 + rng.normal(0, 1_000, size=(6, 3))
    table = budget_impact(budget({"cart": cart, "soc": soc}), "soc")
    assert list(table["year"]) == [0, 1, 2] and list(table["calendar_year"]) == [2026, 2027, 2028]
    diff = cart - soc
    t = stats.t.ppf(0.975, 5)
    for y in range(3):
        row = table.iloc[y]
        half = t * diff[:, y].std(ddof=1) / np.sqrt(6)
        assert row["net_budget_impact"] == pytest.approx(diff[:, y].mean())
        assert row["net_budget_impact_ci_low"] == pytest.approx(diff[:, y].mean() - half)
        assert row["net_budget_impact_ci_high"] == pytest.approx(diff[:, y].mean() + half)
        assert row["spend"] == pytest.approx(cart[:, y].mean())
        assert row["reference_spend"] == pytest.approx(soc[:, y].mean())
        assert row["n_replications"] == 6
        # paired: the shared variation (sd 200,000) does not reach the interval
        assert half < 5_000


def test_every_other_arm_is_compared_with_the_reference() -> None:
    ones = np.ones((3, 2))
    table = budget_impact(budget({"a": 3 * ones, "b": 5 * ones, "c": ones}), "b")
    assert set(table["arm"]) == {"a", "c"} and set(table["reference"]) == {"b"}
    assert table.set_index(["arm", "year"])["net_budget_impact"].to_dict() == {
        ("a", 0): -2.0, ("a", 1): -2.0, ("c", 0): -4.0, ("c", 1): -4.0,
    }  # fmt: skip


def test_a_year_without_rows_spends_nothing() -> None:
    table = budget({"cart": np.full((2, 2), 10.0), "soc": np.full((2, 2), 4.0)})
    table = table[~((table["arm"] == "soc") & (table["year"] == 1))]
    out = budget_impact(table, "soc").set_index("year")
    assert out.loc[1, "net_budget_impact"] == 10.0 and out.loc[0, "net_budget_impact"] == 6.0


def test_current_practice_defaults_to_soc_then_the_first_arm() -> None:
    assert reference_arm(["cart", "soc"], None) == "soc"
    assert reference_arm(["cart", "soc"], "cart") == "cart"
    assert reference_arm(["cart", "ahsct"], "missing") == "cart"


def test_one_arm_gives_an_empty_table() -> None:
    assert budget_impact(budget({"cart": np.ones((2, 2))})).empty


def test_the_bar_chart_has_one_series_per_arm_and_a_zero_line() -> None:
    from cartsim.report.plots.scenarios import plot_budget_impact

    ones = np.ones((3, 2))
    table = budget_impact(budget({"a": 3 * ones, "b": 5 * ones, "soc": ones}))
    fig = plot_budget_impact(table)
    assert fig is not None
    assert [t.name for t in fig.data] == ["a vs soc", "b vs soc"]
    assert list(fig.data[1].y) == [4.0, 4.0] and list(fig.data[1].x) == ["2026", "2027"]
    assert any(s.y0 == 0.0 and s.y1 == 0.0 for s in fig.layout.shapes)
