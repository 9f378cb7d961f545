"""KPI names, the unknown-KPI message, the per-arm and per-resource KPIs, and the checks of a
planning target: each test names the one-line bug it catches."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import BASELINE, make_scenario, sites_dict

from cartsim.engine.eventlog import STATUSES
from cartsim.evaluate.kpis import (
    SERVICE_SITE,
    check_bound,
    check_metric,
    check_targets,
    known_metrics_text,
    metric_names,
    patient_metrics,
    period_metrics,
    resource_metrics,
    site_metrics,
)
from cartsim.inputs import loading
from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.scenario import PlanningTarget

START = dt.date(2026, 7, 1)


def test_a_stage_that_queues_for_a_resource_or_travels_has_a_wait_kpi() -> None:
    """Catches ``resource or isinstance(s, Transport)`` turned into ``and``: stages with a
    resource (and transport legs) have a mean wait; delays do not."""
    names = metric_names(make_scenario(sites_dict()))
    assert {"mean_wait_apheresis_days", "mean_wait_manufacturing_days"} <= names
    assert {"mean_wait_monitoring_days", "mean_wait_ship_out_days"} <= names
    assert "mean_wait_qc_release_days" not in names


def test_a_misspelt_kpi_gets_at_most_four_suggestions_best_first() -> None:
    """Catches ``get_close_matches(..., n=4)`` changed to another count: five names are close to
    this misspelling, four are offered."""
    text = known_metrics_text("mean_wait_manufacturin_days", make_scenario())
    assert text.startswith("did you mean mean_wait_manufacturing_days or "), text
    assert text.endswith("?") and text.count(" or ") == 3, text


def test_the_list_of_known_kpis_names_the_stages_with_a_wait() -> None:
    """Catches the ``; stages with a wait: ...`` part dropped from the folded list."""
    text = known_metrics_text("nonsense", make_scenario())
    assert text.startswith("known: completed, ") and "mean_wait_<stage>_days" in text, text
    assert text.endswith("; stages with a wait: apheresis, manufacturing, monitoring"), text
    assert "resources: apheresis, manufacturing, ward_bed;" in text, text


def test_an_unknown_kpi_is_a_target_metric_error_and_a_known_one_passes() -> None:
    scenario = make_scenario()
    check_metric("p90_vein_to_vein_days", scenario, "s.yaml")
    with pytest.raises(CartsimError) as caught:
        check_metric("nonsense", scenario, "s.yaml")
    assert caught.value.field == "target.metric" and caught.value.file == "s.yaml"
    assert caught.value.message.startswith("unknown KPI 'nonsense'; known: ")


def test_patient_metrics_has_a_mean_wait_per_stage_column_only() -> None:
    """Catches ``c != "wait_days"`` flipped to ``==`` and the ``and`` of the column filter turned
    into ``or``: only the ``wait_<stage>`` columns with values give a mean wait."""
    nan = np.nan
    p = {
        "treatment_day": np.array([10.0, nan]),
        "status": np.array([0, 1]),
        "wait_apheresis": np.array([2.0, 4.0]),
        "wait_other_arm": np.array([nan, nan]),  # a stage of another arm: no values here
        "wait_days": np.array([5.0, 7.0]),
        "referral_to_treatment_days": np.array([10.0, nan]),
        "vein_to_vein_days": np.array([8.0, nan]),
        "inpatient_days": np.array([3.0, 9.0]),
        "icu_days": np.array([1.0, 5.0]),
    }
    out = patient_metrics(p)
    assert out["mean_wait_apheresis"] == 3.0
    waits = {k for k in out if k.startswith("mean_wait")}
    assert waits == {"mean_wait_apheresis"}, waits
    times = ("referral_to_treatment_days", "vein_to_vein_days")
    expected = {"referred", "treated", *STATUSES, "mean_wait_apheresis", "mean_inpatient_days"}
    expected |= {"mean_icu_days", *(f"{s}_{t}" for s in ("mean", "median", "p90") for t in times)}
    assert set(out) == expected
    assert out["mean_inpatient_days"] == 3.0 and out["referred"] == 2 and out["treated"] == 1
    stats = [f"{s}_{t}" for t in times for s in ("mean", "median", "p90")]
    order = ["referred", "treated", *STATUSES, "mean_wait_apheresis", *stats]
    order += ["mean_inpatient_days", "mean_icu_days"]
    assert list(out) == order  # the rows of the metrics table, in this order


def test_resource_metrics_keep_the_steady_state_from_warmup_to_window_end() -> None:
    """Catches ``day >= warmup_days`` loosened to ``>``, ``day < window_days`` to ``<=`` and
    ``resource == code`` flipped: days 10 and 20 of each resource count, days 5 and 30 not."""
    day = np.array([5.0, 10.0, 20.0, 30.0] * 2)
    series = {
        "day": day,
        "resource": np.repeat([0, 1], 4),
        "utilisation": np.array([0.9, 0.2, 0.4, 0.8, 0.0, 0.5, 0.7, 0.1]),
        "queue_length": np.array([9.0, 1.0, 3.0, 7.0, 0.0, 2.0, 6.0, 8.0]),
        "in_use": np.array([1.0, 2.0, 4.0, 9.0, 3.0, 5.0, 7.0, 0.0]),
    }
    out = resource_metrics(series, ["chair", "bed"], warmup_days=10, window_days=30)
    assert out["utilisation_chair"] == pytest.approx(0.3)
    assert out["mean_queue_chair"] == pytest.approx(2.0)
    assert out["mean_in_use_chair"] == pytest.approx(3.0)
    assert out["utilisation_bed"] == pytest.approx(0.6)
    assert out["mean_queue_bed"] == pytest.approx(4.0)
    assert out["mean_in_use_bed"] == pytest.approx(6.0)


def sited_patients() -> pd.DataFrame:
    """North refers two patients (one treated, one dropped out), south two (one treated, one who
    died waiting); the first arrives on the last day of the warm-up (10), the last before it."""
    return pd.DataFrame(
        {
            "replication": [0, 0, 0, 0, 0],
            "arm": ["cart"] * 5,
            "site": pd.Categorical(
                ["north", "south", "north", "south", "north"], categories=["north", "south"]
            ),
            "arrival_day": [10.0, 20.0, 30.0, 40.0, 5.0],
            "treatment_day": [40.0, np.nan, np.nan, 70.0, 30.0],
            "status": ["completed", "died_waiting", "dropped_out", "completed", "completed"],
            "vein_to_vein_days": [20.0, np.nan, np.nan, 25.0, 20.0],
            "referral_to_treatment_days": [30.0, np.nan, np.nan, 30.0, 25.0],
            "wait_days": [1.0, 2.0, 3.0, 4.0, 9.0],
        }
    )


def test_site_metrics_count_each_sites_patients_and_the_whole_service() -> None:
    """Catches ``name == SERVICE_SITE`` and ``site == name`` flipped, the ``==`` of the
    died-waiting and dropped-out counts flipped, and ``arrival_day >= warmup_days`` tightened to
    ``>`` (a patient referred on the day the warm-up ends counts)."""
    rows = site_metrics(sited_patients(), 10.0, START)
    every = rows[(rows["period_kind"] == "all")].set_index(["site", "metric"])["value"]
    expected = {  # north, south, the service
        "referred": [2, 2, 4],
        "treated": [1, 1, 2],
        "died_waiting": [0, 1, 1],
        "dropped_out": [1, 0, 1],
        "mean_wait_days": [2, 3, 2.5],
    }
    for metric, values in expected.items():
        got = [every[(site, metric)] for site in ("north", "south", SERVICE_SITE)]
        assert got == pytest.approx(values), metric


def test_per_site_and_per_year_rows_have_their_documented_columns() -> None:
    """Catches the position a ``site`` or ``period_kind`` column is inserted at changed (2 -> 4):
    the long rows are ``replication, arm, [site,] period_kind, period, metric, value``."""
    rows = site_metrics(sited_patients(), 0.0, START)
    assert list(rows.columns) == [
        "replication",
        "arm",
        "site",
        "period_kind",
        "period",
        "metric",
        "value",
    ]
    years = period_metrics(sited_patients(), 0.0, START)
    assert list(years.columns) == ["replication", "arm", "period_kind", "period", "metric", "value"]


def target(metric: str, **bound: float) -> PlanningTarget:
    return PlanningTarget.model_validate({"metric": metric, "arm": "cart", **bound})


@pytest.mark.parametrize(
    ("metric", "bound"),
    [
        ("p90_vein_to_vein_days", {"at_most": 0.0}),  # `bound < 0` loosened to `<=`
        ("treated", {"at_least": 0.5}),  # the 0 of `bound < 0` raised to 1
        ("utilisation_ward_bed", {"at_most": 1.0}),  # `bound > 1` loosened to `>=`
        ("mean_qaly_total", {"at_least": -0.5}),  # QALYs may be negative
    ],
)
def test_a_bound_on_the_edge_of_what_a_kpi_can_be_is_accepted(
    metric: str, bound: dict[str, float]
) -> None:
    """Catches the bounds of :func:`check_bound` moved: 0 and 1 themselves are bounds a KPI can
    both meet and miss."""
    check_bound(target(metric, **bound))


@pytest.mark.parametrize(
    ("metric", "bound", "needle"),
    [
        ("utilisation_ward_bed", {"at_most": 1.5}, "above 1"),  # the 1 of `bound > 1` doubled
        ("treated", {"at_least": -0.5}, "below 0"),
    ],
)
def test_a_bound_no_kpi_can_miss_or_meet_is_refused(
    metric: str, bound: dict[str, float], needle: str
) -> None:
    with pytest.raises(CartsimError) as caught:
        check_bound(target(metric, **bound))
    assert needle in caught.value.message and caught.value.field == next(iter(bound))


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("target={metric: utilisation_apheresis, arm: cart, at_most: 1.5}", "target.at_most"),
        (
            "target={metric: mean_icu_days, arm: cart, at_most: 3, per_year: true}",
            "target.per_year",
        ),
        ("target={metric: nonsense, arm: cart, at_least: 1}", "target.metric"),
        ("targets=[{metric: treated, arm: cart, at_least: -1}]", "targets.0.at_least"),
    ],
)
def test_a_refused_target_names_its_own_field(entry: str, field: str) -> None:
    """Catches ``exc.field or 'metric'`` turned into ``and`` (every refusal named
    ``target.metric``) and the last part of the field taken from the wrong end."""
    source = loading.load(BASELINE, [entry])
    with pytest.raises(ScenarioError) as caught:
        check_targets(source, source.build())
    assert caught.value.field == field, caught.value
    assert caught.value.message.endswith(f"(from --set {entry.split('=')[0]})"), caught.value


def test_the_list_of_known_kpis_names_resources_only_when_there_are_some(monkeypatch) -> None:
    """A scenario without resources gets no empty ``; resources:`` part."""
    import cartsim.evaluate.kpis as kpis

    monkeypatch.setattr(kpis, "all_resources", lambda scenario: ())
    text = known_metrics_text("nonsense", make_scenario())
    assert "resources:" not in text and "<resource>" not in text, text
    assert text.startswith("known: completed, "), text
