"""Budget impact by calendar year, computed by hand on a small course."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartsim.evaluate.cashflows import UTILITY, Course, Flow, Lump
from cartsim.evaluate.economics import budget
from cartsim.inputs.units import DAYS_PER_YEAR

Y = DAYS_PER_YEAR
NAN = np.nan


def test_spend_and_treated_patients_per_year() -> None:
    course = Course(
        arrival=np.array([0.0, 100.0, 200.0]),
        end=np.array([3 * Y, 3 * Y, 3 * Y]),
        flows=[
            # 1.5 years at 1000 a year; none; a reversed interval that costs nothing
            Flow(
                "drugs",
                np.array([0.0, NAN, 500.0]),
                np.array([1.5 * Y, NAN, 400.0]),
                np.full(3, 1000.0),
            ),
            Flow(UTILITY, np.zeros(3), np.full(3, 2 * Y), np.full(3, 1e9)),
        ],
        lumps=[
            # year 0, exactly the start of year 1, and after the last year
            Lump("stay", np.array([10.0, Y, 5 * Y]), np.array([50.0, 70.0, 90.0])),
            Lump("stay", np.array([NAN, 1.9 * Y, 0.5 * Y]), np.array([1.0, 2.0, 4.0])),
            Lump(UTILITY, np.array([1.0, 1.0, 1.0]), np.full(3, 1e9)),
        ],
    )
    table = budget(course, np.array([10.0, Y + 1.0, 2 * Y + 1.0]), years=2)
    expected = pd.DataFrame(
        {
            "year": [0, 1],
            "patients_treated": [1, 1],
            "cost_drugs": [1000.0, 500.0],
            "cost_stay": [54.0, 72.0],
            "cost_total": [1054.0, 572.0],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, rtol=1e-12)


def test_a_flow_across_several_years_is_split_by_days() -> None:
    start, stop = np.array([0.25 * Y]), np.array([2.5 * Y])
    course = Course(np.zeros(1), np.full(1, 3 * Y), [Flow("f", start, stop, np.array([365.0]))])
    table = budget(course, np.array([NAN]), years=3)
    np.testing.assert_allclose(table["cost_f"], [0.75 * 365, 365.0, 0.5 * 365], rtol=1e-12)
    assert table["patients_treated"].tolist() == [0, 0, 0]
