"""A threshold price must be a parameter its own arm uses and the comparator does not."""

from __future__ import annotations

from typing import Any

from cartsim.inputs.threshold_prices import price_reference_problem


def scenario(allo_price: str, cart_price: str, asked: str) -> dict[str, Any]:
    def arm(price: str) -> dict[str, Any]:
        return {"stages": [{"name": "infusion", "costs": {"product": f"@{price}"}}]}

    return {
        "arms": {"cart": arm(cart_price), "allo": arm(allo_price)},
        "threshold_prices": {"against": "cart", "prices": {"allo": asked}},
    }


def test_the_arms_own_price_is_accepted() -> None:
    assert price_reference_problem(scenario("allo_price", "cart_price", "allo_price")) is None


def test_another_arms_price_is_refused() -> None:
    field, message = price_reference_problem(scenario("allo_price", "cart_price", "cart_price"))
    assert field == "threshold_prices.prices.allo" and "not used by arm 'allo'" in message


def test_a_price_the_comparator_shares_is_refused() -> None:
    field, message = price_reference_problem(scenario("shared", "shared", "shared"))
    assert field == "threshold_prices.prices.allo" and "comparator 'cart' too" in message


def test_a_scenario_without_threshold_prices_has_no_problem() -> None:
    assert price_reference_problem({"arms": {"cart": {}}}) is None
