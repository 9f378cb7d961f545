"""Cost-effectiveness plane quadrants of pairwise comparisons, boundaries included."""

from __future__ import annotations

import pytest

from cartsim.decide.incremental import _quadrant


@pytest.mark.parametrize(
    ("delta_cost", "delta_qaly", "quadrant"),
    [
        (0.0, 0.0, "origin"),
        (100.0, 0.5, "NE"),
        (-100.0, -0.5, "SW"),
        (-100.0, 0.5, "SE"),
        (100.0, -0.5, "NW"),
        # on an axis: no extra cost for a gain, or a saving with no loss, is dominant (SE)
        (0.0, 0.5, "SE"),
        (-100.0, 0.0, "SE"),
        (-0.5, 0.25, "SE"),
        # extra cost for no gain, or a loss at no saving, is dominated (NW)
        (100.0, 0.0, "NW"),
        (0.0, -0.5, "NW"),
        (1.0, 0.0, "NW"),
    ],
)
def test_quadrant(delta_cost: float, delta_qaly: float, quadrant: str) -> None:
    assert _quadrant(delta_cost, delta_qaly) == quadrant
