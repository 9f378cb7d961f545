"""``--set`` reaches a stage's cost categories, and refuses one the stage does not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.loading import load

SCENARIO = Path(__file__).parents[2] / "scenarios" / "cart_vs_asct.yaml"
PATH = "arms.cart_commercial.stages.admission.costs"


def test_a_stage_cost_can_be_set() -> None:
    scenario = load(SCENARIO, [f"{PATH}.product=1000"]).build()
    stage = next(s for s in scenario.arms["cart_commercial"].stages if s.name == "admission")
    assert stage.costs["product"] == 1000


def test_a_misspelt_cost_category_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="prodct: no such item.*product"):
        load(SCENARIO, [f"{PATH}.prodct=1000"])
