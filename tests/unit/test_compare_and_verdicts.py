"""Side-by-side comparison with paired differences, and a run's verdict on its targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartsim.decide.capacity import run_verdicts
from cartsim.decide.compare import side_by_side
from cartsim.decide.stats import mean_ci
from cartsim.inputs.scenario import PlanningTarget


def samples(values: list[float], metric: str = "p90_vein_to_vein_days") -> pd.DataFrame:
    return pd.DataFrame({"replication": range(len(values)), "arm": "cart", "metric": metric,
                         "period": "all", "value": values})  # fmt: skip


def test_the_difference_is_paired_by_replication() -> None:
    a = [30.0, 40.0, 35.0, 50.0]
    b = [28.0, 39.0, 32.0, 49.0]  # each 1-3 lower: the shared noise cancels
    table = side_by_side({"A": samples(a), "B": samples(b)}).set_index("scenario")
    diff = table.loc["B - A"]
    assert diff["mean"] == pytest.approx(-1.75)
    expected = mean_ci(np.subtract(b, a))
    assert (diff["ci_low"], diff["ci_high"]) == pytest.approx(expected[1:])
    unpaired = table.loc["A", "ci_high"] - table.loc["A", "ci_low"]
    assert diff["ci_high"] - diff["ci_low"] < unpaired / 5  # pairing narrows it
    assert table.loc["A", "mean"] == pytest.approx(np.mean(a))


def test_a_measure_of_one_scenario_only_has_no_difference() -> None:
    only_a = pd.concat([samples([1.0, 2.0]), samples([0.5, 0.7], "utilisation_manufacturing")])
    table = side_by_side({"A": only_a, "B": samples([1.5, 2.5])})
    assert set(table.loc[table["metric"] == "utilisation_manufacturing", "scenario"]) == {"A"}
    assert "B - A" in set(table.loc[table["metric"] == "p90_vein_to_vein_days", "scenario"])


def kpi(mean: float, low: float, high: float, **extra: object) -> dict[str, object]:
    return {"arm": "cart", "metric": "p90_vein_to_vein_days", "mean": mean, "ci_low": low,
            "ci_high": high, "n_replications": 20, **extra}  # fmt: skip


def test_a_target_per_year_fails_on_its_worst_year_and_says_which() -> None:
    kpis = pd.DataFrame([kpi(33.0, 32.0, 34.0)])  # pooled: met
    years = pd.DataFrame([
        kpi(30.0, 29.0, 31.0, period_kind="referral_year", period=1),
        kpi(36.5, 35.5, 37.5, period_kind="referral_year", period=2),  # fails
        kpi(34.0, 31.0, 39.0, period_kind="referral_year", period=3),  # unclear, widest
    ])  # fmt: skip
    pooled = PlanningTarget(metric="p90_vein_to_vein_days", arm="cart", at_most=35)
    yearly = PlanningTarget(metric="p90_vein_to_vein_days", arm="cart", at_most=35, per_year=True)
    table = run_verdicts(kpis, years, [pooled, yearly], level=0.9)
    assert list(table["verdict"]) == ["meets", "fails"]
    assert table.loc[1, "worst_referral_year"] == 2  # the failing year, not the widest
    assert (table["confidence"] == 0.9).all()
    unclear = run_verdicts(kpis, years[years["period"] != 2], [yearly])
    assert unclear.loc[0, "verdict"] == "unclear" and unclear.loc[0, "worst_referral_year"] == 3
