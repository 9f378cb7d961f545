"""``threshold_prices:``: the price parameter of each product whose threshold ``run`` finds.

The threshold price of an arm is the value of its price parameter at which its incremental net
monetary benefit against the arm ``against`` is 0 (money of the scenario's currency and price
year, in the parameter's unit). Checks raise ``ValueError("dotted.field.path: message")`` so that
the loader names the field and its line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from cartsim.inputs import tree
from cartsim.inputs.fields import Strict
from cartsim.inputs.money import parameter_money

if TYPE_CHECKING:
    from cartsim.inputs.scenario import Scenario


class ThresholdPrices(Strict):
    """Arms whose price parameter ``run`` finds the threshold of, against one comparator arm."""

    against: str = Field(description="the comparator arm (e.g. academic CD19 CAR-T)")
    prices: Annotated[dict[str, str], Field(min_length=1)] = Field(
        description="arm: the name of its price parameter (money per unit charged)"
    )


def check_threshold_prices(s: Scenario) -> None:
    """The arms are compared arms other than ``against``, the parameters exist, and the
    scenario has economics."""
    spec = s.threshold_prices
    if spec is None:
        return
    if s.economics is None:
        raise ValueError("threshold_prices: needs economics")
    compared = s.compared_arms
    if spec.against not in compared:
        raise ValueError(f"threshold_prices.against: {spec.against!r} is not a compared arm "
                         f"(known: {compared})")  # fmt: skip
    for arm, parameter in spec.prices.items():
        if arm not in compared or arm == spec.against:
            raise ValueError(f"threshold_prices.prices.{arm}: not a compared arm other than "
                             f"{spec.against!r} (known: {compared})")  # fmt: skip
        if parameter not in s.parameters:
            raise ValueError(f"threshold_prices.prices.{arm}: unknown parameter {parameter!r}")
        if parameter_money(s.parameters[parameter], "EUR", 2024) is None:
            unit = s.parameters[parameter].unit
            raise ValueError(f"threshold_prices.prices.{arm}: {parameter!r} is not money (its "
                             f"unit is {unit!r}): name the arm's price parameter")  # fmt: skip


def price_reference_problem(raw: Mapping[str, Any]) -> tuple[str, str] | None:
    """The field and message of a price parameter its arm does not refer to (it would move no
    cost of the arm), in a composed scenario before substitution; None when every price is the
    arm's own. The comparator may use it too (a rescue with the product, a shared cost): the
    threshold is then where the difference in its use breaks even."""
    spec, arms = raw.get("threshold_prices"), raw.get("arms")
    if not isinstance(spec, Mapping) or not isinstance(arms, Mapping):
        return None
    prices = spec.get("prices")
    for arm, parameter in prices.items() if isinstance(prices, Mapping) else ():
        ref = f"@{parameter}"
        if arm in arms and not any(v == ref for _, v in tree.nodes(arms[arm])):
            return (f"threshold_prices.prices.{arm}", f"{parameter!r} is not used by arm "
                    f"{arm!r} (none of its fields is {ref}): name the arm's own price")  # fmt: skip
    return None


def unused_price_problem(scenario: Scenario, used: Collection[str]) -> tuple[str, str] | None:
    """The field and message of a threshold price that no field of the scenario refers to any
    more (an option put a number where it was referred to): ``run`` could not find its
    threshold. None when every price is used, or when ``run`` finds none (one replication)."""
    spec = scenario.threshold_prices
    if spec is None or scenario.run.replications < 2:
        return None
    for arm, parameter in spec.prices.items():
        if parameter not in used:
            return (f"threshold_prices.prices.{arm}", f"{parameter!r} is referred to nowhere "
                    "(a number was put where it was): its threshold is undefined")  # fmt: skip
    return None
