"""The clinical course: relapse times in closed form, defaults for diseases without outcomes."""

from __future__ import annotations

import numpy as np
import pytest
from builders import scenario_dict

from cartsim.evaluate.course import relapse_years
from cartsim.inputs.loading import validate
from cartsim.runs.experiment import simulate

U = np.array([0.0, 0.1, 0.5, 0.9, 0.999])


def test_relapse_years_invert_the_weibull_cumulative_hazard() -> None:
    hazard, shape = np.full(U.size, 0.2), np.full(U.size, 1.5)
    years = relapse_years(hazard, shape, U)
    np.testing.assert_allclose((hazard * years) ** shape, -np.log1p(-U), rtol=1e-12, atol=1e-15)
    exponential = relapse_years(np.full(U.size, 0.5), np.ones(U.size), U)
    np.testing.assert_allclose(exponential, -np.log1p(-U) / 0.5, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
def test_no_relapse_hazard_means_never_relapsing() -> None:
    years = relapse_years(np.zeros(U.size), np.full(U.size, 2.0), U)
    assert np.isposinf(years).all()


def test_a_disease_without_outcomes_never_responds() -> None:
    data = scenario_dict(
        resources={},
        demand={"SSc": {"rate_per_year": 40, "age": 50}},
        disease_course={
            d: {"utility_active": 0.5, "utility_remission": 0.8} for d in ("SLE", "SSc")
        },
        economics={"horizon_years": 5},
    )
    data["arms"] = {
        "cart": {
            "stages": [{"name": "infusion", "kind": "treatment"}],
            "outcomes": {"SLE": {"response": 1.0, "response_days": 30}},
        }
    }
    patients = simulate(validate(data, "test"), 0).patients
    treated = patients[patients["treatment_day"].notna()]
    sle, ssc = treated[treated["disease"] == "SLE"], treated[treated["disease"] == "SSc"]
    assert len(sle) > 10 and len(ssc) > 10
    assert sle["response"].all() and not ssc["response"].any()
    np.testing.assert_allclose(sle["response_day"] - sle["treatment_day"], 30.0)
    assert ssc["response_day"].isna().all() and ssc["relapse_day"].isna().all()
