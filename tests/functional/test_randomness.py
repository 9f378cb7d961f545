"""Seeds, common random numbers, and parallel = serial."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from builders import make_scenario, scenario_dict

from cartsim.runs.experiment import run_replications, simulate


def _lognormal_scenario(**changes):
    data = scenario_dict()
    data["arms"]["cart"]["stages"][1]["duration"] = {"dist": "lognormal", "mean": 13, "sd": 2}
    data["waiting"] = {"dropout_hazard_per_day": 0.001}
    return make_scenario(data, **changes)


def test_same_seed_gives_identical_tables() -> None:
    scenario = _lognormal_scenario()
    a, b = simulate(scenario, 1), simulate(scenario, 1)
    for name in ("events", "patients", "resources", "metrics"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


COLUMNS = ["arrival_day", "age", "vein_to_vein_days"]


def _differ(a: pd.DataFrame, b: pd.DataFrame, column: str) -> bool:
    n = min(len(a), len(b))
    return len(a) != len(b) or not np.array_equal(a[column][:n], b[column][:n], equal_nan=True)


def test_other_replication_gives_other_results() -> None:
    scenario = _lognormal_scenario(
        demand={"SLE": {"age": {"dist": "uniform", "low": 20, "high": 60}}}
    )
    a, b = simulate(scenario, 0).patients, simulate(scenario, 1).patients
    for column in COLUMNS:
        assert _differ(a, b, column), column


def test_other_seed_gives_other_results() -> None:
    one = _lognormal_scenario(demand={"SLE": {"age": {"dist": "uniform", "low": 20, "high": 60}}})
    other = make_scenario(one.model_dump(by_alias=True), run={"seed": one.run.seed + 1})
    a, b = simulate(one, 0).patients, simulate(other, 0).patients
    for column in COLUMNS:
        assert _differ(a, b, column), column


def test_other_draw_gives_other_results() -> None:
    scenario = _lognormal_scenario(
        demand={"SLE": {"age": {"dist": "uniform", "low": 20, "high": 60}}}
    )
    a, b = simulate(scenario, 0, draw=0).patients, simulate(scenario, 0, draw=1).patients
    for column in COLUMNS:
        assert _differ(a, b, column), column


def test_parallel_equals_serial() -> None:
    scenario = _lognormal_scenario()
    serial = run_replications(scenario, 4, workers=1)
    parallel = run_replications(scenario, 4, workers=2)
    for name in ("events", "patients", "resources", "metrics"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name))


def test_changing_one_arm_leaves_other_arms_draws_unchanged() -> None:
    data = scenario_dict()
    data["arms"]["cart"]["stages"][1]["duration"] = {"dist": "lognormal", "mean": 13, "sd": 2}
    data["arms"]["other"] = {
        "stages": [
            {
                "name": "mobilisation",
                "kind": "delay",
                "duration": {"dist": "gamma", "mean": 12, "sd": 3},
            },
            {"name": "transplant", "kind": "treatment"},
        ]
    }
    base = simulate(make_scenario(data), 0).patients
    changed_data = copy.deepcopy(data)
    changed_data["arms"]["cart"]["stages"][1]["duration"] = 20
    changed = simulate(make_scenario(changed_data), 0).patients
    mine = base[base["arm"] == "other"].reset_index(drop=True)
    theirs = changed[changed["arm"] == "other"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    # while the changed arm did change
    a = base[base["arm"] == "cart"]["vein_to_vein_days"].reset_index(drop=True)
    b = changed[changed["arm"] == "cart"]["vein_to_vein_days"].reset_index(drop=True)
    assert not a.equals(b)


def test_same_patient_same_attributes_when_another_disease_changes() -> None:
    one = make_scenario(
        demand={"IIM": {"rate_per_year": 10, "age": {"dist": "uniform", "low": 20, "high": 60}}}
    )
    two = make_scenario(
        demand={"IIM": {"rate_per_year": 30, "age": {"dist": "uniform", "low": 20, "high": 60}}}
    )
    p1 = simulate(one, 0).patients
    p2 = simulate(two, 0).patients
    sle1 = p1[p1["disease"] == "SLE"][["arrival_day", "age", "female"]].reset_index(drop=True)
    sle2 = p2[p2["disease"] == "SLE"][["arrival_day", "age", "female"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(sle1, sle2)
