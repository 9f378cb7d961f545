"""A threshold price must be a parameter its own arm refers to (the comparator may too)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import ROOT

from cartsim.inputs import loading
from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.threshold_prices import ThresholdPrices, price_reference_problem

THERAPIES = ROOT / "scenarios" / "therapies_2026.yaml"


def scenario(allo_price: str, cart_price: str, asked: str) -> dict[str, Any]:
    def arm(price: str) -> dict[str, Any]:
        return {"stages": [{"name": "infusion", "costs": {"product": f"@{price}"}}]}

    return {
        "arms": {"cart": arm(cart_price), "allo": arm(allo_price)},
        "threshold_prices": {"against": "cart", "prices": {"allo": asked}},
    }


def problem(raw: dict[str, Any]) -> tuple[str, str]:
    found = price_reference_problem(raw)
    assert found is not None
    return found


def test_the_arms_own_price_is_accepted() -> None:
    assert price_reference_problem(scenario("allo_price", "cart_price", "allo_price")) is None


def test_another_arms_price_is_refused() -> None:
    field, message = problem(scenario("allo_price", "cart_price", "cart_price"))
    assert field == "threshold_prices.prices.allo" and "not used by arm 'allo'" in message


def test_a_price_the_comparator_uses_too_is_accepted() -> None:
    """A shared price (a rescue with the product, a shared cost) still moves the arm's costs:
    its threshold is where the difference in its use breaks even."""
    assert price_reference_problem(scenario("shared", "shared", "shared")) is None


def test_a_scenario_without_threshold_prices_has_no_problem() -> None:
    assert price_reference_problem({"arms": {"cart": {}}}) is None


def test_one_threshold_price_is_enough() -> None:
    """Catches ``min_length=1`` of ``prices`` raised to 2: a study of one product's price."""
    source = loading.load(
        THERAPIES, ["threshold_prices.prices={allo_cart: allo_cart_product_cost}"]
    )
    spec = source.build().threshold_prices
    assert spec is not None and spec.prices == {"allo_cart": "allo_cart_product_cost"}
    assert ThresholdPrices(against="cart", prices={"allo": "p"}).prices == {"allo": "p"}


@pytest.mark.parametrize(
    "prices",
    ["{cart: cost_cart_product_academic}", "{nobody: allo_cart_product_cost}"],
    ids=["the-comparator", "no-such-arm"],
)
def test_a_price_of_the_comparator_or_of_no_compared_arm_is_refused(prices: str) -> None:
    """Catches ``arm not in compared or arm == spec.against`` turned into ``and`` (only an arm
    that is both is refused) and ``arm == spec.against`` flipped to ``!=`` (every arm but the
    comparator refused)."""
    with pytest.raises(ScenarioError) as caught:
        loading.load(THERAPIES, [f"threshold_prices.prices={prices}"])
    arm = prices.strip("{}").split(":")[0]
    assert caught.value.field == f"threshold_prices.prices.{arm}", caught.value
    assert caught.value.message.startswith("not a compared arm other than 'cart'"), caught.value
