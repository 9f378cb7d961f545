"""The shipped evidence: the pooled SLE series is the base case, the Erlangen series a scenario
that changes only its own figures; LICATS, manufacturing failure and the SSc excess hazard are
wired into the arms and the disease course."""

from __future__ import annotations

from builders import ROOT

from cartsim.inputs import loading

BASE = ROOT / "scenarios" / "cart_vs_asct.yaml"
ERLANGEN = ROOT / "scenarios" / "cart_vs_asct_erlangen.yaml"
CART_ARMS = ("cart", "cart_commercial")


def clinical(scenario, arm: str) -> dict[str, float]:
    a = scenario.arms[arm]
    ae = a.adverse_events
    return {
        "response_sle": a.outcomes["SLE"].response,
        "response_iim": a.outcomes["IIM"].response,
        "response_ssc": a.outcomes["SSc"].response,
        "crs_any": ae.crs.any,
        "crs_grade2": ae.crs.grade2_plus,
        "icans_any": ae.icans.any,
        "serious_infection": ae.serious_infection,
        "licats_grade3": ae.licats.cumulative()[2],
        "licats_days": ae.licats_grade3_extra_days,
        "relapse": a.outcomes["SLE"].relapse_hazard_per_year,
    }


def test_pooled_series_is_the_base_and_erlangen_changes_only_its_figures() -> None:
    base, erlangen = loading.load(BASE), loading.load(ERLANGEN)
    pooled = base.base_values()
    for arm in CART_ARMS:
        b, e = clinical(base.build(), arm), clinical(erlangen.build(), arm)
        assert b["response_sle"] == pooled["cart_response_sle"] == 0.7
        assert e["response_sle"] == pooled["cart_response_sle_erlangen"] > b["response_sle"]
        assert e["crs_any"] == pooled["cart_crs_any_erlangen"] != b["crs_any"]
        assert e["icans_any"] == pooled["cart_icans_any_erlangen"] != b["icans_any"]
        changed = {k for k in b if b[k] != e[k]}
        assert changed == {"response_sle", "crs_any", "icans_any", "serious_infection"}


def test_licats_grade3_stays_and_manufacturing_failure_are_in_both_cart_arms() -> None:
    source = loading.load(BASE)
    values, scenario = source.base_values(), source.build()
    expected = (
        values["cart_licats_any"]
        * values["cart_licats_grade2plus_given_any"]
        * values["cart_licats_grade3plus_given_grade2"]
    )
    for arm in CART_ARMS:
        row = clinical(scenario, arm)
        assert abs(row["licats_grade3"] - expected) < 1e-12
        assert row["licats_days"] == values["cart_licats_duration"] > 0
        failures = [s.failure.probability for s in scenario.arms[arm].stages if s.failure]
        assert failures == [values["cap_cart_mfg_failure_prob"]]
    mfg = source.parameters["cap_cart_mfg_failure_prob"]
    assert mfg.low == 0.0 < mfg.value < mfg.high  # the range reaches CASTLE's 0/24


def test_active_ssc_mortality_is_an_excess_hazard_not_also_an_smr() -> None:
    source = loading.load(BASE)
    values, course = source.base_values(), source.build().disease_course["SSc"]
    assert course.excess_hazard_active_per_year == values["excess_hazard_dcssc_active"] > 0
    assert course.smr_active == 1.0  # the excess replaces the SMR: no double count
    assert course.excess_hazard_remission_per_year == values["excess_hazard_dcssc_remission"]
    assert course.excess_hazard_remission_per_year < course.excess_hazard_active_per_year
