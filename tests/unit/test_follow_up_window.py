"""The follow-up window of an arm's costs, first and second treatments alike."""

from __future__ import annotations

import numpy as np
import pytest

from cartsim.evaluate.cashflows import follow_up_window
from cartsim.inputs.clinical import ArmEconomics
from cartsim.inputs.units import DAYS_PER_YEAR


def test_follow_up_starts_years_after_treatment_and_lasts_its_years() -> None:
    eco = ArmEconomics(follow_up_cost_per_year=1000.0, follow_up_years=2, follow_up_from_years=1)
    start, end = follow_up_window(eco, np.array([10.0, np.nan]))
    assert start[0] == pytest.approx(10.0 + DAYS_PER_YEAR)
    assert end[0] == pytest.approx(10.0 + 3 * DAYS_PER_YEAR)
    assert np.isnan(start[1]) and np.isnan(end[1])  # never treated: no follow-up


def test_follow_up_from_treatment_by_default() -> None:
    eco = ArmEconomics(follow_up_cost_per_year=1000.0, follow_up_years=0.5)
    start, end = follow_up_window(eco, np.array([4.0]))
    assert (start[0], end[0]) == pytest.approx((4.0, 4.0 + 0.5 * DAYS_PER_YEAR))
