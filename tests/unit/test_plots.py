"""Figures: trace types, axis units, numbers of traces and points, None when data is absent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from builders import BASELINE
from scipy import stats

from cartsim.inputs.loading import load
from cartsim.report import plots
from cartsim.runs.experiment import Tables, run_replications

TINY = ["run.arrival_window_days=365", "run.horizon_days=500", "run.warmup_days=0"]


@pytest.fixture(scope="module")
def tiny() -> Tables:
    """Two replications of the baseline scenario over one year of referrals."""
    return run_replications(load(BASELINE, TINY).build(), 2)


def axis_titles(fig: go.Figure) -> list[str]:
    layout = fig.to_plotly_json()["layout"]
    return [v["title"]["text"] for k, v in layout.items() if "axis" in k and "title" in v]


def patients_table(arms: tuple[str, ...] = ("cart", "soc")) -> pd.DataFrame:
    """Two replications of five patients per arm, with known waits, grades and costs."""
    rows = []
    for arm in arms:
        for rep in (0, 1):
            for i, status in enumerate(
                ["completed", "completed", "completed", "died_waiting", "dropped_out"]
            ):
                treated = status == "completed"
                rows.append(
                    {
                        "replication": rep,
                        "arm": arm,
                        "patient_id": i,
                        "disease": "SLE" if i % 2 else "SSc",
                        "status": status,
                        "treatment_day": 30.0 + i if treated else np.nan,
                        "wait_apheresis_days": float(i),
                        "wait_manufacturing_days": 2.0 * i if treated else np.nan,
                        "wait_days": 3.0 * i,
                        "vein_to_vein_days": 25.0 + i if treated else np.nan,
                        "crs_grade": i % 3,
                        "icans_grade": 0,
                        "cost_product": 1000.0 * (i + 1),
                        "cost_hospital": 500.0,
                        "cost_total": 1000.0 * (i + 1) + 500.0,
                    }
                )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Patient flow
# ---------------------------------------------------------------------------------------------


def test_patient_flow_is_one_sankey_per_arm_with_a_dropdown() -> None:
    fig = plots.plot_patient_flow(patients_table())
    assert fig is not None
    assert [type(t) for t in fig.data] == [go.Sankey, go.Sankey]
    assert [t.visible for t in fig.data] == [True, False]
    assert len(fig.layout.updatemenus[0].buttons) == 2
    nodes = list(fig.data[0].node.label)
    assert nodes[:2] == ["referred (5.0)", "treated (3.0)"]
    # links carry mean patients per replication: 3 treated, 1 died and 1 dropped out
    assert list(fig.data[0].link.value) == [3.0, 1.0, 1.0]


def test_patient_flow_adds_response_when_the_column_exists() -> None:
    table = patients_table(("cart",))
    table["response"] = pd.array(
        [True, False, True, pd.NA, pd.NA] * 2, dtype="boolean"
    )  # patients 0 and 2 respond, 1 does not
    fig = plots.plot_patient_flow(table)
    assert fig is not None
    labels = list(fig.data[0].node.label)
    assert "response (2.0)" in labels and "no response (1.0)" in labels
    assert not fig.layout.updatemenus  # a single arm needs no dropdown


def test_patient_flow_without_status_is_none() -> None:
    assert plots.plot_patient_flow(None) is None
    assert plots.plot_patient_flow(patients_table().drop(columns="status")) is None


# ---------------------------------------------------------------------------------------------
# Capacity
# ---------------------------------------------------------------------------------------------


def resources_table() -> pd.DataFrame:
    days = np.arange(14)
    frames = []
    for rep, level in ((0, 1.0), (1, 2.0), (2, 3.0)):
        for res in ("chair", "device"):
            frames.append(
                pd.DataFrame(
                    {
                        "replication": rep,
                        "arm": "cart",
                        "resource": res,
                        "day": days,
                        "in_use": level,
                        "queue_length": level * 2,
                        "capacity": 4,
                        "utilisation": level / 4,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_resource_use_draws_mean_and_95_band_per_resource() -> None:
    fig = plots.plot_resource_use(resources_table(), bin_days=7)
    assert fig is not None
    lines = [t for t in fig.data if t.name == "cart"]
    # two resources x (in use, queue): one mean line each, two weekly points
    assert len(lines) == 4
    assert all(len(t.x) == 2 for t in lines)
    np.testing.assert_allclose(lines[0].y, [2.0, 2.0])  # mean of 1, 2, 3
    band = fig.data[0]
    assert band.fill == "toself"
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)  # sd of (1, 2, 3) is 1
    low = max(2 - half, 0.0)  # a count is never negative
    np.testing.assert_allclose(band.y, [2 + half, 2 + half, low, low], rtol=1e-6)
    capacity = [t for t in fig.data if t.name == "capacity"]
    assert len(capacity) == 2 and set(capacity[0].y) == {4.0}
    titles = axis_titles(fig)
    assert "in use (patients)" in titles and "queue (patients)" in titles
    assert "time (days)" in titles


def test_resource_use_without_columns_is_none() -> None:
    assert plots.plot_resource_use(None) is None
    assert plots.plot_resource_use(resources_table().drop(columns="queue_length")) is None


def test_waits_are_box_plots_per_arm_with_quartiles() -> None:
    fig = plots.plot_waits(patients_table())
    assert fig is not None
    boxes = [t for t in fig.data if isinstance(t, go.Box)]
    assert len(boxes) == 4  # per arm: stage waits and whole pathway
    stages = boxes[0]
    assert list(stages.x) == ["apheresis", "manufacturing"]
    apheresis = np.array([0, 1, 2, 3, 4] * 2, dtype=float)
    assert stages.median[0] == pytest.approx(np.median(apheresis))
    assert stages.q3[0] == pytest.approx(np.percentile(apheresis, 75))
    assert stages.mean[1] == pytest.approx(2.0)  # manufacturing: 0, 2, 4 for the treated
    assert list(boxes[1].x) == ["vein-to-vein"]
    assert "days" in axis_titles(fig)


def test_waits_without_wait_columns_is_none() -> None:
    assert plots.plot_waits(None) is None
    assert plots.plot_waits(pd.DataFrame({"arm": ["a"], "status": ["completed"]})) is None


def test_journeys_draw_one_bar_per_stage_visit(tiny: Tables) -> None:
    fig = plots.plot_journeys(tiny.events, n=30)
    assert fig is not None
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    rows = {y for t in bars for y in t.y}
    events = tiny.events[tiny.events["replication"] == 0]
    journeys = events.loc[events["event"] == "start", "patient_id"]  # screened-out: no bars
    assert len(rows) == min(30, journeys.nunique())
    sampled = {int(r.rsplit(" ", 1)[1]) for r in rows}
    mine = events[events["patient_id"].isin(sampled)]
    visits = sum(len(t.x) for t in bars if t.name != "waiting in queue")
    assert visits == (mine["event"] == "end").sum()
    assert all((np.asarray(t.x) >= 0).all() for t in bars)
    assert "time since referral (days)" in axis_titles(fig)


def test_journeys_without_events_is_none() -> None:
    assert plots.plot_journeys(None) is None
    assert plots.plot_journeys(pd.DataFrame()) is None


# ---------------------------------------------------------------------------------------------
# Clinical course
# ---------------------------------------------------------------------------------------------


def test_kaplan_meier_steps() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    event = np.array([True, True, False, True, False])
    steps = plots.kaplan_meier(time, event)
    np.testing.assert_allclose(steps.x, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(steps.y, [1, 0.8, 0.6, 0.3, 0.3])
    # Greenwood: var = S^2 * sum d / (n (n - d)); at t=1, S=0.8, var = 0.64 / 20
    half = stats.norm.ppf(0.975) * np.sqrt(0.64 / 20)
    assert steps.low[1] == pytest.approx(0.8 - half)
    assert steps.high[1] == pytest.approx(1.0)  # 0.8 + half, clipped to 1
    assert (steps.low <= steps.y).all() and (steps.y <= steps.high).all()


def test_outcomes_start_at_the_response_share_and_censor_at_horizon() -> None:
    p = pd.DataFrame(
        {
            "arm": "cart",
            "disease": "SLE",
            "treatment_day": [0.0, 0.0, 0.0, 0.0, np.nan],
            "response": pd.array([True, True, True, False, pd.NA], dtype="boolean"),
            "relapse_day": [50.0, np.nan, 500.0, np.nan, np.nan],
            "death_day": [np.nan, 80.0, np.nan, np.nan, np.nan],
        }
    )
    fig = plots.plot_outcomes(p, horizon_days=100.0)
    assert fig is not None
    curves = [t for t in fig.data if t.fill is None and t.name]
    assert len(fig.data) == 6  # per endpoint: band edges and the curve
    remission, survival = curves
    assert [t.fill for t in fig.data[:3]] == [None, "tonexty", None]
    # non-responder lost at 0; relapse at 50; death at 80; relapse after the horizon is censored
    np.testing.assert_allclose(remission.x * 365.25, [0, 0, 50, 80, 100], rtol=1e-6)
    np.testing.assert_allclose(remission.y, [1, 0.75, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(survival.y, [1, 0.75, 0.75])
    assert remission.line.shape == "hv"
    titles = axis_titles(fig)
    assert "time since treatment (years)" in titles
    assert "share of treated patients" in titles


def test_outcomes_need_the_outcome_columns() -> None:
    assert plots.plot_outcomes(None, 100.0) is None
    table = patients_table()
    assert plots.plot_outcomes(table, 500.0) is None  # no response, relapse or death columns
    table["response"] = table["treatment_day"].notna()
    table["relapse_day"] = np.nan
    assert plots.plot_outcomes(table, 500.0) is None  # still no death_day
    table["death_day"] = np.nan
    fig = plots.plot_outcomes(table, 500.0)
    assert fig is not None
    # (remission, survival) x two arms x two diseases, each curve with its two band edges
    assert len(fig.data) == 8 * 3
    assert len([t for t in fig.data if t.fill == "tonexty"]) == 8


def test_adverse_events_count_treated_patients_per_grade() -> None:
    fig = plots.plot_adverse_events(patients_table())
    assert fig is not None
    assert len(fig.data) == 4  # (CRS, ICANS) x two arms
    crs = fig.data[0]
    assert list(crs.x) == [f"grade {g}" for g in range(5)]
    # treated patients 0, 1, 2 have CRS grades 0, 1, 2 in each replication
    np.testing.assert_allclose(crs.y, [1, 1, 1, 0, 0])
    assert "treated patients (mean per replication)" in axis_titles(fig)
    assert plots.plot_adverse_events(patients_table().drop(columns="crs_grade")) is None


# ---------------------------------------------------------------------------------------------
# Costs and value
# ---------------------------------------------------------------------------------------------


def test_costs_stack_mean_cost_per_category_without_the_total() -> None:
    fig = plots.plot_costs(patients_table(), currency="EUR 2024")
    assert fig is not None
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["product", "hospital"]
    np.testing.assert_allclose(fig.data[0].y, [3000.0, 3000.0])
    assert "mean cost per patient (EUR 2024)" in axis_titles(fig)


def test_costs_without_cost_columns_is_none() -> None:
    table = patients_table().drop(columns=["cost_product", "cost_hospital"])
    assert plots.plot_costs(table) is None  # cost_total alone is not a category
    assert plots.plot_costs(None) is None


def budget_table() -> pd.DataFrame:
    rows = [
        {
            "replication": rep,
            "arm": arm,
            "year": year,
            "patients_treated": 10 + rep,
            "cost_product": 1e6 * (rep + 1),
            "cost_hospital": 2e5,
            "cost_total": 1e6 * (rep + 1) + 2e5,
        }
        for rep in (0, 1)
        for arm in ("cart", "ahsct")
        for year in (2026, 2027, 2028)
    ]
    return pd.DataFrame(rows)


def test_budget_stacks_yearly_spend_and_counts_treated() -> None:
    fig = plots.plot_budget(budget_table(), currency="EUR 2024")
    assert fig is not None
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    lines = [t for t in fig.data if isinstance(t, go.Scatter)]
    assert len(bars) == 4 and len(lines) == 2  # 2 categories x 2 arms; treated per arm
    np.testing.assert_allclose(bars[0].y, [1.5e6] * 3)
    np.testing.assert_allclose(lines[0].y, [10.5] * 3)
    assert lines[0].yaxis != bars[0].yaxis  # the count is on the second axis
    titles = axis_titles(fig)
    assert "spend (EUR 2024)" in titles and "treated (patients)" in titles
    assert plots.plot_budget(budget_table().drop(columns="year")) is None


def psa_table(iterations: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    arms = ["soc", "cart", "ahsct"]
    return pd.DataFrame(
        {
            "iteration": np.repeat(np.arange(iterations), 3),
            "arm": arms * iterations,
            "cost": np.tile([1e4, 1e5, 6e4], iterations) + rng.normal(0, 1e4, 3 * iterations),
            "qaly": np.tile([4.0, 5.5, 5.0], iterations) + rng.normal(0, 0.5, 3 * iterations),
            "draw": 0,
        }
    )


def test_ce_plane_draws_a_sample_of_at_most_2000_points() -> None:
    psa = psa_table()
    fig = plots.plot_ce_plane(psa, wtp=50_000)
    assert fig is not None
    clouds = [t for t in fig.data if t.mode == "markers" and len(t.x) > 1]
    assert [t.name for t in clouds] == ["cart vs soc", "ahsct vs soc"]
    assert [len(t.x) for t in clouds] == [1000, 1000]
    wtp = fig.data[-1]
    assert wtp.y[1] / wtp.x[1] == pytest.approx(50_000)
    titles = axis_titles(fig)
    assert "incremental QALYs per patient (QALYs)" in titles
    assert "incremental cost per patient (EUR)" in titles


def test_ce_plane_needs_two_arms() -> None:
    assert plots.plot_ce_plane(None) is None
    assert plots.plot_ce_plane(psa_table(10).query("arm == 'soc'")) is None


def test_ceac_lines_per_arm_and_frontier_markers() -> None:
    from cartsim.decide.psa import ceac

    table = ceac(psa_table(500), np.linspace(0, 100_000, 11))
    fig = plots.plot_ceac(table)
    assert fig is not None
    assert [t.name for t in fig.data[:3]] == ["soc", "cart", "ahsct"]
    frontier = fig.data[3]
    assert frontier.mode == "markers" and len(frontier.x) == 11
    assert "probability cost-effective (share)" in axis_titles(fig)
    assert plots.plot_ceac(table.drop(columns="probability_cost_effective")) is None


def test_evpi_per_patient_and_population() -> None:
    from cartsim.decide.psa import evpi

    fig = plots.plot_evpi(evpi(psa_table(500), [0, 50_000, 100_000], population=100))
    assert fig is not None
    assert len(fig.data) == 2 and len(fig.data[0].x) == 3
    titles = axis_titles(fig)
    assert "EVPI per patient (EUR)" in titles and "EVPI, population (EUR)" in titles
    assert plots.plot_evpi(None) is None


def dsa_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comparison": ["cart vs soc"] * 3 + ["cart vs ahsct"] * 3,
            "parameter": ["a", "b", "c"] * 2,
            "description": ["alpha", "beta", None] * 2,
            "low_value": [0.1, 1.0, 10.0] * 2,
            "high_value": [0.2, 2.0, 20.0] * 2,
            "inmb_low": [900.0, 0.0, 990.0, 1.0, 2.0, 3.0],
            "inmb_high": [1100.0, 3000.0, 1010.0, 4.0, 5.0, 6.0],
            "inmb_base": [1000.0] * 3 + [3.5] * 3,
        }
    )


def test_tornado_sorts_by_swing_with_one_panel_per_comparison() -> None:
    fig = plots.plot_tornado(dsa_table())
    assert fig is not None
    assert len(fig.data) == 4  # low and high bars for two comparisons
    low = fig.data[0]
    assert list(low.y) == ["c", "alpha", "beta"]  # largest swing last = at the top
    assert low.base == 1000.0
    np.testing.assert_allclose(low.x, [-10.0, -100.0, -1000.0])
    assert "incremental net monetary benefit (EUR)" in axis_titles(fig)
    assert plots.plot_tornado(dsa_table().drop(columns="inmb_base")) is None


def test_sweep_draws_each_metric_against_the_setting() -> None:
    rows = [
        {
            "setting_id": i,
            "setting": f"resources.manufacturing.capacity={cap}",
            "arm": "cart",
            "metric": metric,
            "mean": value / cap,
            "ci_low": value / cap - 1,
            "ci_high": value / cap + 1,
        }
        for i, cap in enumerate((1, 2, 3))
        for metric, value in (("p90_vein_to_vein_days", 60.0), ("mean_cost_total", 9e4))
    ]
    fig = plots.plot_sweep(pd.DataFrame(rows))
    assert fig is not None
    assert len(fig.data) == 2
    assert list(fig.data[0].x) == ["1", "2", "3"]  # the varied path is the axis title
    np.testing.assert_allclose(fig.data[0].y, [60, 30, 20])
    np.testing.assert_allclose(fig.data[0].error_y.array, [1, 1, 1])
    titles = axis_titles(fig)
    assert "days" in titles and "EUR" in titles
    assert "resources.manufacturing.capacity" in titles
    only = plots.plot_sweep(pd.DataFrame(rows), metrics=["mean_cost_total", "absent"])
    assert only is not None and len(only.data) == 1
    assert plots.plot_sweep(pd.DataFrame(rows), metrics=["absent"]) is None
    assert plots.plot_sweep(pd.DataFrame(rows).drop(columns="metric")) is None


def test_sweep_of_several_paths_labels_each_setting_shortly() -> None:
    sweep = pd.DataFrame(
        {
            "setting": ["resources.a.capacity=1, resources.b.capacity=2"] * 2,
            "arm": ["x", "y"],
            "metric": "treated",
            "mean": [1.0, 2.0],
        }
    )
    fig = plots.plot_sweep(sweep)
    assert fig is not None and len(fig.data) == 2
    assert list(fig.data[0].x) == ["a.capacity=1<br>b.capacity=2"]


# ---------------------------------------------------------------------------------------------
# Labels and real runs
# ---------------------------------------------------------------------------------------------


def test_labels_from_tables_are_escaped() -> None:
    table = patients_table(("<b>x</b>", "<script>alert(1)</script>"))
    for fig in (plots.plot_waits(table), plots.plot_costs(table), plots.plot_patient_flow(table)):
        assert fig is not None
        text = fig.to_json()
        assert "<script>" not in text and "<b>" not in text
    costs = plots.plot_costs(table)
    assert costs is not None
    assert list(costs.data[0].x) == [
        "&lt;b&gt;x&lt;/b&gt;",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ]


def test_every_capacity_plot_draws_a_real_run(tiny: Tables) -> None:
    expected = {
        "flow": (plots.plot_patient_flow(tiny.patients), go.Sankey),
        "resources": (plots.plot_resource_use(tiny.resources), go.Scatter),
        "waits": (plots.plot_waits(tiny.patients), go.Box),
        "journeys": (plots.plot_journeys(tiny.events), go.Bar),
        "adverse events": (plots.plot_adverse_events(tiny.patients), go.Bar),
    }
    for name, (fig, kind) in expected.items():
        assert fig is not None, name
        assert any(isinstance(t, kind) for t in fig.data), name
    resources = expected["resources"][0]
    busy = tiny.resources.groupby("resource")[["in_use", "queue_length"]].max().sum(axis=1)
    means = [t for t in resources.data if t.name == "cart"]
    assert len(means) == 2 * int((busy > 0).sum())  # in use and queue of each used resource
    assert len(means[0].x) == int(np.ceil(500 / 7))  # weekly bins over the 500-day horizon


def test_clinical_and_cost_plots_draw_a_real_run_when_its_columns_exist(tiny: Tables) -> None:
    patients = tiny.patients
    if "death_day" in patients:
        fig = plots.plot_outcomes(patients, np.inf)
        assert fig is not None and all(isinstance(t, go.Scatter) for t in fig.data)
    if any(c.startswith("cost_") and c != "cost_total" for c in patients.columns):
        fig = plots.plot_costs(patients)
        assert fig is not None
        assert {t.name for t in fig.data}.isdisjoint({"total", "undiscounted"})
    budget = getattr(tiny, "budget", None)
    if budget is not None and len(budget):
        fig = plots.plot_budget(budget)
        assert fig is not None and any(isinstance(t, go.Bar) for t in fig.data)
