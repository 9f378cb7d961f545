"""Threshold price of the commercial product, confirmed by re-running at that price."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cartsim.decide.stats import mean_ci
from cartsim.decide.threshold import UNCERTAIN
from cartsim.inputs.errors import CartsimError
from cartsim.inputs.loading import load
from cartsim.runs.threshold import (
    ThresholdStudy,
    bracket,
    inmb_by_replication,
    replication_means,
    threshold_table,
    two_way_grid,
)

SCENARIO = Path(__file__).parents[2] / "scenarios" / "cart_vs_asct.yaml"
SMALL = ["run.arrival_window_days=730", "run.horizon_days=900", "run.warmup_days=0"]
PRICE = "cost_cart_product_commercial"


@pytest.fixture(scope="module")
def source():
    return load(SCENARIO, SMALL)


@pytest.fixture(scope="module")
def table(source):
    return threshold_table(source, ThresholdStudy(PRICE, "cart_commercial", replications=4))


def test_price_is_linear_and_every_comparator_has_a_threshold(table) -> None:
    assert set(table["comparator"]) == {"cart", "ahsct", "soc"}
    assert (table["method"] == "linear (Fieller)").all()
    finite = table[table["threshold"].map(math.isfinite)]
    assert len(finite) == 3
    assert (finite["threshold_ci_low"] <= finite["threshold"]).all()
    assert (finite["threshold"] <= finite["threshold_ci_high"]).all()
    base = table["base_value"].iloc[0]
    assert (table["headroom"] == table["threshold"] - base).all()


def test_inmb_at_the_base_value_is_that_of_the_base_case(source, table) -> None:
    study = ThresholdStudy(PRICE, "cart_commercial", replications=4)
    base = replication_means(source, {}, study)
    for row in table.itertuples():
        inmb = inmb_by_replication(base, "cart_commercial", row.comparator, row.wtp)
        assert row.inmb_base == pytest.approx(inmb.mean())


def test_rerunning_at_the_threshold_price_gives_an_inmb_interval_containing_zero(
    source, table
) -> None:
    study = ThresholdStudy(PRICE, "cart_commercial", replications=4)
    wtp = table["wtp"].iloc[0]
    for row in table.itertuples():
        means = replication_means(source, {PRICE: row.threshold}, study)
        mean, low, high = mean_ci(
            inmb_by_replication(means, "cart_commercial", row.comparator, wtp)
        )
        assert low <= 0.0 <= high, row.comparator
        assert mean == pytest.approx(0.0, abs=1e-6 * abs(row.inmb_base) + 1e-6)


def test_two_way_grid_names_the_best_arm_only_where_its_interval_is_clear(source) -> None:
    study = ThresholdStudy(PRICE, "cart_commercial", replications=4)
    grid = two_way_grid(source, study, [0.0, 300_000.0], "wtp", [0.0, 100_000.0])
    assert len(grid) == 4
    nmb_columns = [c for c in grid.columns if c.startswith("nmb_")]
    for row in grid.itertuples():
        best = max(nmb_columns, key=lambda c: getattr(row, c))
        assert row.best_arm == best.removeprefix("nmb_")
        assert row.closest_arm != row.best_arm
        assert row.inmb_closest_ci_low <= row.inmb_closest <= row.inmb_closest_ci_high
        clear = row.inmb_closest_ci_low > 0.0
        assert row.preferred_arm == (row.best_arm if clear else UNCERTAIN)
    # a free commercial product is clearly best; at its price and no value of health, no arm is
    assert grid.loc[(grid["value"] == 0.0) & (grid["by_value"] == 0.0), "preferred_arm"].item() \
        == "cart_commercial"  # fmt: skip
    assert (grid["preferred_arm"] == UNCERTAIN).any()


def test_an_unused_parameter_or_unknown_arm_is_refused(source) -> None:
    with pytest.raises(CartsimError, match="unknown arm"):
        threshold_table(source, ThresholdStudy(PRICE, "nope", replications=2))
    with pytest.raises(CartsimError, match="unknown parameter"):
        threshold_table(source, ThresholdStudy("nope", "cart", replications=2))


class _Range:
    def __init__(self, bounds: tuple[float, float] | None) -> None:
        self.bounds = bounds

    def sensitivity_range(self) -> tuple[float, float] | None:
        return self.bounds


class _Source:
    """What the bracket of a root-finding threshold reads of a scenario source."""

    def __init__(self, bounds: tuple[float, float] | None, factor: float = 1.0) -> None:
        self.parameters = {"p": _Range(bounds)}
        self.factor = factor

    def money_factors(self) -> dict[str, float]:
        return {"p": self.factor}


def test_the_root_finding_bracket_is_the_one_way_range_widened_in_the_scenarios_money() -> None:
    assert bracket(_Source((2.0, 5.0)), "p", 3.0) == (0.0, 8.0)  # not below 0 when positive
    assert bracket(_Source((0.0, 1.0)), "p", 0.5) == (0.0, 2.0)  # nor when it starts at 0
    assert bracket(_Source((4.0, 5.0)), "p", 4.5) == (3.0, 6.0)
    assert bracket(_Source((-1.0, 1.0)), "p", 0.0) == (-3.0, 3.0)  # may go negative
    assert bracket(_Source((4.0, 5.0), factor=2.0), "p", 9.0) == (6.0, 12.0)
    assert bracket(_Source(None), "p", 3.0) == (0.0, 30.0)
    assert bracket(_Source(None), "p", 0.0) == (0.0, 1.0)
