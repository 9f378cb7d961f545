"""The therapies of therapies_2026.yaml: off-the-shelf arms skip apheresis and manufacturing,
and the capacity footprint per patient treated agrees with the event log and with hand counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import ROOT, make_scenario, scenario_dict

from cartsim.decide.stats import summarise
from cartsim.engine.eventlog import EVENT_CODE
from cartsim.engine.model import run_replication
from cartsim.evaluate.footprint import SUFFIX, TREATED, footprint_metrics
from cartsim.inputs.loading import load
from cartsim.runs.experiment import simulate

SCENARIO = ROOT / "scenarios" / "therapies_2026.yaml"
SHORT = ["run.arrival_window_days=500", "run.horizon_days=900", "run.warmup_days=0"]
OFF_THE_SHELF = ("allo_cart", "teclistamab")


@pytest.fixture(scope="module")
def tables() -> Any:
    """One replication of the shipped scenario over a short run (every arm, event log kept)."""
    scenario = load(SCENARIO, SHORT).build()
    return scenario, simulate(scenario, 0)


QUEUES = {"allo_cart": {"dose_from_stock", "admission"}, "teclistamab": {"step_up"}}


@pytest.mark.parametrize("arm", OFF_THE_SHELF)
def test_an_off_the_shelf_arm_never_uses_apheresis_or_manufacturing(tables: Any, arm: str) -> None:
    _, t = tables
    events = t.events[t.events["arm"] == arm]
    used = set(events["resource"].dropna().astype(str))
    assert "ward_bed" in used and not used & {"apheresis", "manufacturing"}
    assert used <= {"ward_bed", "icu_bed", "allo_stock"}
    mine = t.patients[t.patients["arm"] == arm]
    waits = [c for c in mine.columns if c.startswith("wait_") and c.endswith("_days")]
    queued = {c[5:-5] for c in waits if c != "wait_days" and mine[c].notna().any()}
    assert queued == QUEUES[arm]


@pytest.fixture(scope="module")
def unlimited_stock() -> Any:
    """The short run with as many off-the-shelf doses as needed."""
    scenario = load(SCENARIO, [*SHORT, "resources.allo_stock.capacity=unlimited"]).build()
    return scenario, simulate(scenario, 0)


def _referral_to_treatment(scenario: Any, t: Any) -> tuple[pd.Series, pd.Series]:
    """The allogeneic arm's treated patients: referral to treatment (days) and its parts: the
    waits for a dose and for a bed, the dispatch and the days of lymphodepletion."""
    events = t.events[t.events["arm"] == "allo_cart"]
    patients = t.patients[t.patients["arm"] == "allo_cart"].set_index("patient_id")
    treated = patients[patients["treatment_day"].notna()]
    assert len(treated) > 5
    by = events.assign(stage=events["stage"].astype(str), event=events["event"].astype(str))
    dispatch = by[(by["stage"] == "dispatch")].pivot_table(
        index="patient_id", columns="event", values="time", aggfunc="first"
    )
    lead = next(s for s in scenario.arms["allo_cart"].stages if s.name == "admission")
    parts = (
        treated["wait_dose_from_stock_days"]
        + (dispatch["end"] - dispatch["start"]).reindex(treated.index)
        + treated["wait_admission_days"]
        + lead.treatment_day
    )
    return treated["treatment_day"] - treated["arrival_day"], parts


def test_off_the_shelf_patients_wait_only_for_a_dose_and_a_bed(tables: Any) -> None:
    """Referral to treatment is the wait for a dose, the dispatch, the wait for a ward bed and
    the days of lymphodepletion, to the rounding of the log, for every treated patient."""
    got, parts = _referral_to_treatment(*tables)
    np.testing.assert_allclose(got, parts, atol=1e-9)


def test_with_doses_enough_off_the_shelf_patients_wait_only_for_a_bed(unlimited_stock: Any) -> None:
    scenario, t = unlimited_stock
    got, parts = _referral_to_treatment(scenario, t)
    mine = t.patients[t.patients["arm"] == "allo_cart"]
    assert (mine["wait_dose_from_stock_days"].dropna() == 0).all()
    np.testing.assert_allclose(got, parts, atol=1e-9)


def test_teclistamab_charges_its_dose_at_step_up_and_at_maintenance(tables: Any) -> None:
    scenario, t = tables
    stages = {s.name: s for s in scenario.arms["teclistamab"].stages}
    dose = stages["step_up"].costs["drug"]
    assert stages["maintenance_dose"].costs["drug"] == dose
    events = t.events[(t.events["arm"] == "teclistamab") & (t.events["event"] == "start")]
    starts = events.groupby(events["stage"].astype(str), observed=True).size()
    assert starts["maintenance_dose"] == starts["step_up"] > 0  # all referred long before the end
    mine = t.patients[(t.patients["arm"] == "teclistamab") & t.patients["treatment_day"].notna()]
    # two doses each, discounted at 3% a year over at most the run's 900 days
    assert mine["cost_drug"].between(2 * dose * 0.92, 2 * dose + 1e-6).all()


def _log_footprint(
    run: Any, treated: int, resources: list[str], horizon: float
) -> dict[str, float]:
    """Unit-days per patient treated read straight off an arm's logs (its first-line journeys
    and the rescue journeys of its relapsing patients): ends minus starts, cut at the horizon."""
    start, end = EVENT_CODE["start"], EVENT_CODE["end"]
    logs = [run.log.arrays(), *(second.log.arrays() for second in run.retreat)]
    out = {}
    for code, resource in enumerate(resources):
        held = 0.0
        for cols in logs:
            keep = (cols["resource"] == code) & (cols["time"] <= horizon)
            starts = cols["time"][keep & (cols["event"] == start)]
            ends = cols["time"][keep & (cols["event"] == end)]
            held += ends.sum() - starts.sum() + (starts.size - ends.size) * horizon
        out[resource] = held / treated
    return out


def test_footprint_matches_hand_counts_on_a_deterministic_case() -> None:
    """Fixed durations, no failures, deaths or dropouts, and a horizon long enough for every
    patient: each treated patient holds the chair 1 day, the device 13 and a bed 14."""
    scenario = make_scenario(
        scenario_dict(run={"horizon_days": 1000, "replications": 2}), name="deterministic"
    )
    t = simulate(scenario, 0)
    table = footprint_metrics(t.resources, t.patients).set_index("metric")["value"]
    assert table[TREATED] == t.patients["treatment_day"].notna().sum() > 0
    assert table[f"apheresis{SUFFIX}"] == pytest.approx(1.0, abs=1e-9)
    assert table[f"manufacturing{SUFFIX}"] == pytest.approx(13.0, abs=1e-9)
    assert table[f"ward_bed{SUFFIX}"] == pytest.approx(14.0, abs=1e-9)


def test_footprint_matches_the_event_log(tables: Any) -> None:
    """Per arm and resource: the footprint from the daily series equals the log's own sums,
    rescue journeys included (a patient still holding a resource at the horizon holds it to
    the horizon)."""
    scenario, t = tables
    metrics = footprint_metrics(t.resources, t.patients)
    resources, horizon = list(scenario.resources), scenario.run.horizon_days
    runs = run_replication(scenario, 0).arms
    for arm in ("cart", "allo_cart", "teclistamab", "cd19bcma_cart"):
        mine = metrics[metrics["arm"] == arm].set_index("metric")["value"]
        log = _log_footprint(runs[arm], int(mine[TREATED]), resources, horizon)
        for resource in resources:
            assert mine[f"{resource}{SUFFIX}"] == pytest.approx(log[resource], rel=1e-9, abs=1e-9)


def test_footprint_counts_the_rescue_journeys_of_relapsing_patients() -> None:
    """With rescue after relapse, the first-line arm's chair days per patient treated exceed one
    session (1 day) by the rescue sessions, which the first-line log alone does not hold."""
    stages = scenario_dict()["arms"]["cart"]["stages"]
    outcome = {"response": 0.9, "response_days": 30,
               "relapse": {"model": "constant", "hazard_per_year": 3.0}}  # fmt: skip
    scenario = make_scenario(
        scenario_dict(
            run={"horizon_days": 3000},
            arms={
                "cart": {
                    "outcomes": {"SLE": outcome},
                    "on_relapse": [{"arm": "rescue", "share": 1.0}],
                },
                "rescue": {"rescue_only": True, "stages": stages},
            },  # fmt: skip
        )
    )
    t = simulate(scenario, 0)
    table = footprint_metrics(t.resources, t.patients).set_index("metric")["value"]
    retreated = int(t.patients["retreated"].sum())
    first = table[TREATED]
    assert retreated > 0
    # every journey (first line or rescue) holds the chair exactly 1 day; a rescue journey
    # referred before the horizon may still be queueing at it
    assert table[f"apheresis{SUFFIX}"] > 1.0
    assert table[f"apheresis{SUFFIX}"] <= (first + retreated) / first + 1e-9


def test_the_summarised_footprint_has_intervals_over_replications() -> None:
    scenario = make_scenario(scenario_dict(run={"replications": 3}))
    runs = [simulate(scenario, r) for r in range(3)]
    metrics = pd.concat([footprint_metrics(t.resources, t.patients) for t in runs])
    table = summarise(metrics).set_index("metric")
    row = table.loc[f"ward_bed{SUFFIX}"]
    assert row["n_replications"] == 3
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]
