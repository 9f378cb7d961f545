"""Comparing arms: head-to-head isolation, shared capacity in a service mix, paired analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import ROOT, make_scenario, scenario_dict

from cartsim.decide.head_to_head import incremental_results, replication_means
from cartsim.decide.stats import mean_ci, paired_difference_ci
from cartsim.inputs import loading
from cartsim.runs.experiment import run_replications, simulate

TWO_ARMS = {
    "cart": {
        "stages": [
            {"name": "apheresis", "kind": "activity", "resource": "apheresis", "duration": 1.0},
            {"name": "infusion", "kind": "treatment"},
        ]
    },
    "ahsct": {
        "stages": [
            {"name": "collection", "kind": "activity", "resource": "apheresis", "duration": 2.0},
            {"name": "transplant", "kind": "treatment"},
        ]
    },
}


def two_arm_scenario(arms=TWO_ARMS, **changes):
    data = scenario_dict(
        demand={"SLE": {"rate_per_year": 120}, "SSc": {"rate_per_year": 0, "age": 50}},
        resources={"apheresis": {"capacity": 1}},
    )
    data["arms"] = arms
    return make_scenario(data, **changes)


def test_head_to_head_arms_never_share_resources() -> None:
    both = simulate(two_arm_scenario(), 0)
    alone = simulate(two_arm_scenario(arms={"cart": TWO_ARMS["cart"]}), 0)
    assert both.patients["wait_apheresis_days"].max() > 0  # the chair is busy
    # each arm of the pair sees exactly what it sees when run alone
    cart_pair = both.patients[both.patients["arm"] == "cart"].reset_index(drop=True)
    cart_alone = alone.patients[alone.patients["arm"] == "cart"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        cart_pair[cart_alone.columns], cart_alone, check_categorical=False
    )
    # and every patient goes through every arm
    assert len(both.patients) == 2 * len(alone.patients)


@pytest.mark.statistical
def test_service_mix_apheresis_waits_rise_when_ahsct_referrals_are_added() -> None:
    policy = {"rules": [{"arm": "ahsct", "diseases": ["SSc"]}], "default": "cart"}

    def cart_wait(ssc_rate: float) -> float:
        scenario = two_arm_scenario(
            comparison="service_mix",
            referral_policy=policy,
            demand={"SSc": {"rate_per_year": ssc_rate}},
            run={"replications": 5},
        )
        patients = run_replications(scenario, 5, events=False).patients
        cart = patients[patients["arm"] == "cart"]
        assert (cart["disease"] == "SLE").all()
        return float(cart["wait_apheresis_days"].mean())

    assert cart_wait(60) > cart_wait(0) + 0.5


@pytest.mark.statistical
def test_service_mix_sends_each_patient_to_one_arm() -> None:
    data = scenario_dict(demand={"SSc": {"rate_per_year": 120, "age": 50, "flags": {"lung": 0.4}}})
    data["arms"] = TWO_ARMS
    scenario = make_scenario(
        data,
        comparison="service_mix",
        referral_policy={
            "rules": [{"arm": "ahsct", "diseases": ["SSc"], "flags": ["lung"]}],
            "default": "cart",
        },
    )
    patients = simulate(scenario, 0).patients
    assert patients["patient_id"].is_unique
    ahsct = patients[patients["arm"] == "ahsct"]
    assert len(ahsct) > 0 and (ahsct["disease"] == "SSc").all()
    n = (patients["disease"] == "SSc").sum()
    share = len(ahsct) / n
    # binomial share of lung involvement: 0.4 within 4.4 standard errors (two-sided 1e-5)
    assert n > 60 and abs(share - 0.4) <= 4.4 * np.sqrt(0.4 * 0.6 / n), (share, n)


@pytest.mark.statistical
def test_paired_ci_of_a_difference_is_narrower_than_unpaired(seed: int) -> None:
    scenario = loading.load(
        ROOT / "scenarios" / "cart_vs_asct.yaml", ["run.replications=8", f"run.seed={seed}"]
    ).build()
    patients = run_replications(scenario, 8, events=False).patients
    means = replication_means(patients).pivot(index="replication", columns="arm", values="qaly")
    a, b = means["cart"].to_numpy(), means["soc"].to_numpy()
    _, low, high = paired_difference_ci(a, b)
    _, a_low, a_high = mean_ci(a)
    _, b_low, b_high = mean_ci(b)
    unpaired_half_width = np.hypot((a_high - a_low) / 2, (b_high - b_low) / 2)
    assert (high - low) / 2 < unpaired_half_width
    table = incremental_results(patients, 50_000, "soc")
    overall = table[(table["population"] == "all") & (table["analysis"] == "fully incremental")]
    assert set(overall["arm"]) == set(scenario.arms)
    assert set(table["population"]) == {"all", "SLE", "IIM", "SSc"}
