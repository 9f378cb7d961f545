"""Functional tests of the pathway engine: deterministic, extreme and conservation cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario, scenario_dict

from cartsim.runs.experiment import simulate


def test_fixed_durations_give_vein_to_vein_equal_to_sum_of_stages() -> None:
    scenario = make_scenario(
        resources={
            "apheresis": {"capacity": "unlimited"},
            "manufacturing": {"capacity": "unlimited"},
            "ward_bed": {"capacity": "unlimited"},
        }
    )
    patients = simulate(scenario, 0).patients
    treated = patients[patients["treatment_day"].notna()]
    assert len(treated) > 20
    # apheresis 1 + manufacturing 13 + QC 7 + lymphodepletion 5 = 26 days from first apheresis
    np.testing.assert_allclose(treated["vein_to_vein_days"], 26.0)
    np.testing.assert_allclose(treated["referral_to_treatment_days"], 26.0)
    np.testing.assert_allclose(treated["inpatient_days"], 14.0)


def test_unlimited_capacity_gives_zero_waits() -> None:
    unlimited = {"capacity": "unlimited"}
    scenario = make_scenario(
        demand={"SLE": {"rate_per_year": 400}},
        resources={"apheresis": unlimited, "manufacturing": unlimited, "ward_bed": unlimited},
    )
    patients = simulate(scenario, 0).patients
    assert len(patients) > 300
    assert (patients["wait_days"] == 0).all()
    for stage in ("apheresis", "manufacturing", "monitoring"):
        assert patients[f"wait_{stage}_days"].fillna(0).eq(0).all()


@pytest.mark.statistical
def test_scarce_capacity_makes_patients_wait() -> None:
    scenario = make_scenario(resources={"manufacturing": {"capacity": 1}})
    patients = simulate(scenario, 0).patients
    # 50 referrals a year against one 13-day slot (28 a year): queues must build up
    assert patients["wait_manufacturing_days"].mean() > 30


def test_every_referred_patient_has_exactly_one_status() -> None:
    scenario = make_scenario(
        waiting={"death_hazard_per_day": 0.002, "dropout_hazard_per_day": 0.003},
        resources={"manufacturing": {"capacity": 1}},
    )
    tables = simulate(scenario, 0)
    patients, events = tables.patients, tables.events
    referrals = events[events["event"] == "referral"]
    assert len(patients) == len(referrals) == patients["patient_id"].nunique()
    terminal = events[events["event"].isin(["completed", "died_waiting", "dropped_out", "failed"])]
    assert terminal["patient_id"].is_unique
    # each patient's status is its terminal event, or in_progress when it has none by the horizon
    last = terminal.set_index("patient_id")["event"].astype(str)
    status = patients.set_index("patient_id")["status"].astype(str)
    expected = last.reindex(status.index).fillna("in_progress")
    pd.testing.assert_series_equal(status, expected, check_names=False)
    counts = status.value_counts()
    assert counts["died_waiting"] > 0 and counts["dropped_out"] > 0 and counts["completed"] > 0
    # a patient who left a queue has died or dropped out at that very time
    left = events[events["event"] == "leave_queue"].set_index("patient_id")["time"]
    exits = terminal.set_index("patient_id").loc[left.index]
    assert exits["event"].isin(["died_waiting", "dropped_out"]).all()
    np.testing.assert_array_equal(exits["time"].to_numpy(), left.to_numpy())
    # nobody who died or dropped out while waiting was treated
    gone = patients["status"].isin(["died_waiting", "dropped_out"])
    assert patients.loc[gone, "treatment_day"].isna().all()


def test_failure_rule_sends_patients_back_and_caps_attempts() -> None:
    data = scenario_dict()
    qc = data["arms"]["cart"]["stages"][2]
    qc["failure"] = {"probability": 1.0, "back_to": "apheresis", "max_attempts": 3}
    scenario = make_scenario(data)
    tables = simulate(scenario, 0)
    patients, events = tables.patients, tables.events
    done = patients[patients["status"] == "failed"]
    assert len(done) > 0 and patients["treatment_day"].isna().all()
    starts = events[(events["stage"] == "apheresis") & (events["event"] == "start")]
    per_patient = starts.groupby("patient_id").size()
    assert per_patient.loc[done["patient_id"]].eq(3).all()


def test_not_eligible_patients_do_not_enter() -> None:
    scenario = make_scenario(
        demand={"SSc": {"rate_per_year": 30, "age": 50}},
        arms={"cart": {"eligibility": {"diseases": ["SLE"]}}},
    )
    patients = simulate(scenario, 0).patients
    ssc = patients[patients["disease"] == "SSc"]
    assert len(ssc) > 0 and (ssc["status"] == "not_eligible").all()
    assert (patients.loc[patients["disease"] == "SLE", "status"] != "not_eligible").all()


def test_apheresis_starts_only_when_open() -> None:
    scenario = make_scenario(
        resources={
            "apheresis": {
                "capacity": 1,
                "calendar": {"open_days": ["mon", "tue", "wed", "thu", "fri"], "hours": [8, 16]},
            }
        },
        arms={
            "cart": {
                "stages": [
                    {
                        "name": "apheresis",
                        "kind": "activity",
                        "resource": "apheresis",
                        "duration": 0.2,
                    }
                ]
            }
        },
    )
    events = simulate(scenario, 0).events
    starts = events[(events["stage"] == "apheresis") & (events["event"] == "start")]["time"]
    start_date = pd.Timestamp(scenario.run.start_date)
    stamps = start_date + pd.to_timedelta(starts.to_numpy(), unit="D")
    assert (stamps.day_of_week < 5).all()
    hours = (starts % 1) * 24
    assert ((hours >= 8 - 1e-9) & (hours < 16)).all()


@pytest.mark.parametrize("capacity", [1, 3])
def test_icu_escalation_follows_crs_grade(capacity: int) -> None:
    scenario = make_scenario(
        resources={"icu_bed": {"capacity": capacity}},
        arms={
            "cart": {
                "adverse_events": {"crs": {"any": 0.8, "grade2_plus": 0.5, "grade3_plus": 0.3}},
            }
        },
    )
    data = scenario.model_dump()
    monitoring = data["arms"]["cart"]["stages"][5]
    monitoring["icu"] = {"resource": "icu_bed", "duration": 4, "onset_days": 2}
    monitoring["extra_days_per_crs_grade"] = 1.0
    scenario = make_scenario(data)
    patients = simulate(scenario, 0).patients
    # patients whose stay ended by the horizon (a stay still running is cut there)
    treated = patients[patients["status"] == "completed"]
    assert treated["treatment_day"].notna().all() and len(treated) > 10
    severe = treated["crs_grade"] >= 3
    assert severe.any() and (~severe).any()
    np.testing.assert_allclose(treated.loc[severe, "icu_days"], 4.0)
    assert (treated.loc[~severe, "icu_days"] == 0).all()
    # hospital days = 14 + 1 per CRS grade, plus the ICU stay and any wait for the ICU bed
    expected = 14 + treated["crs_grade"] + 4 * severe + treated["icu_wait_days"]
    np.testing.assert_allclose(treated["inpatient_days"], expected)


def test_bed_booked_before_lymphodepletion_delays_the_infusion() -> None:
    def run(beds: int):
        data = scenario_dict(resources={"ward_bed": {"capacity": beds}})
        stages = data["arms"]["cart"]["stages"]
        stages[3:] = [
            {
                "name": "admission",
                "kind": "inpatient",
                "resource": "ward_bed",
                "duration": 19,
                "treatment_day": 5,
            }
        ]
        return simulate(make_scenario(data), 0)

    tables = run(1)
    events, patients = tables.events, tables.patients
    starts = events[(events["stage"] == "admission") & (events["event"] == "start")]
    treated = patients.set_index("patient_id").loc[starts["patient_id"], "treatment_day"]
    gap = treated.to_numpy() - starts["time"].to_numpy()
    np.testing.assert_allclose(gap[~np.isnan(gap)], 5.0)  # the horizon cuts the last one
    assert patients["wait_admission_days"].mean() > 1  # one bed for 50 patients a year
    roomy = run(10).patients
    assert roomy["vein_to_vein_days"].mean() < patients["vein_to_vein_days"].mean() - 1
    np.testing.assert_allclose(roomy["inpatient_days"].dropna().loc[lambda x: x > 0], 19.0)
