"""``cartsim compare`` end to end, and ``check`` on sites and targets: one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import assert_user_error, cartsim, scenario_dict, sites_dict


def two_scenarios(write_yaml) -> tuple[Path, Path]:
    target = {"metric": "p90_vein_to_vein_days", "arm": "cart", "at_most": 60, "per_year": True}
    run = {"replications": 3, "arrival_window_days": 365, "horizon_days": 500}
    central = sites_dict(name="central", run=run, targets=[target])
    local = sites_dict(True, name="local", run=run, targets=[target])
    return write_yaml(central, "central.yaml"), write_yaml(local, "local.yaml")


def test_compare_writes_both_runs_and_a_paired_comparison(tmp_path: Path, write_yaml) -> None:
    first, second = two_scenarios(write_yaml)
    out = tmp_path / "cmp"
    result = cartsim("compare", str(first), str(second), "--out", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    for name in ("central", "local"):
        assert (out / name / "patients.parquet").is_file()
        assert (out / name / "report.html").is_file()
    table = pd.read_parquet(out / "comparison.parquet")
    pooled = table[table["period"] == "all"].set_index(["metric", "scenario"])
    # the same patients in both: the difference in referrals is exactly 0 in every replication
    referred = pooled.loc[("referred", "local - central")]
    assert referred["mean"] == 0 and referred["ci_low"] == 0 and referred["ci_high"] == 0
    for name in ("central", "local"):
        frame = pd.read_parquet(out / name / "patients.parquet")
        per_rep = frame.groupby("replication")["vein_to_vein_days"].median()
        assert abs(pooled.loc[("median_vein_to_vein_days", name), "mean"] - per_rep.mean()) < 1e-9
    diff = pooled.loc[("median_vein_to_vein_days", "local - central"), "mean"]
    expected = pooled.loc[("median_vein_to_vein_days", "local"), "mean"] - pooled.loc[
        ("median_vein_to_vein_days", "central"), "mean"]  # fmt: skip
    assert abs(diff - expected) < 1e-9
    assert diff < 0  # no courier legs at the point of care
    verdicts = pd.read_parquet(out / "comparison_targets.parquet")
    assert sorted(verdicts["scenario"]) == ["central", "local"]
    assert set(pd.read_parquet(out / "comparison_sites.parquet")["site"]) >= {"north", "south"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["analysis"] == "compare" and manifest["compared"] == ["central", "local"]
    html = (out / "report.html").read_text()
    assert "central vs local" in html and "local - central" in html
    (out / "report.html").unlink()
    rebuilt = cartsim("report", str(out))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "central vs local" in (out / "report.html").read_text()
    assert "local - central" in result.stdout
    run_report = (out / "central" / "report.html").read_text()
    assert 'id="sites"' in run_report and "Answer: " in run_report
    assert "ship_out" in run_report  # the courier legs in the schematic


def test_compare_refuses_two_scenarios_of_one_name(tmp_path: Path, write_yaml) -> None:
    first, _ = two_scenarios(write_yaml)
    out = tmp_path / "cmp"
    assert_user_error(cartsim("compare", str(first), str(first), "--out", str(out)), "name")
    assert not out.exists()


def test_check_refuses_an_unknown_kpi_in_targets_with_its_line(write_yaml) -> None:
    good = {"metric": "p90_vein_to_vein_days", "arm": "cart", "at_most": 35}
    path = write_yaml(scenario_dict(targets=[good, {**good, "metric": "p90_v2v"}]))
    result = cartsim("check", str(path))
    assert_user_error(result, "targets.1.metric", "p90_v2v", f"{path}:")
    per_year = {**good, "metric": "utilisation_manufacturing", "per_year": True}
    result = cartsim("check", str(write_yaml(scenario_dict(targets=[per_year]))))
    assert_user_error(result, "targets.0.per_year", "not measured per year")


def test_check_refuses_site_mistakes_in_one_line(write_yaml) -> None:
    data = sites_dict()
    data["sites"]["south"]["catchment"] = 0.3
    path = write_yaml(data)
    assert_user_error(cartsim("check", str(path)), f"{path}:", "sites", "sum to 0.9")
    data = sites_dict()
    del data["sites"]["north"]["resources"]["apheresis"]
    path = write_yaml(data)
    assert_user_error(
        cartsim("check", str(path)),
        "arms.cart.stages.apheresis.resource",
        "resolves to nothing for site 'north'",
    )
    assert cartsim("check", str(write_yaml(sites_dict()))).returncode == 0


@pytest.mark.parametrize(
    ("bound", "needles"),
    [
        ({"at_most": -35}, ("targets.0.at_most", "below 0", "never met")),
        ({"at_least": -3, "metric": "treated"}, ("targets.0.at_least", "below 0", "always met")),
        ({"at_least": 1.5, "metric": "utilisation_manufacturing"},
         ("targets.0.at_least", "above 1", "never met")),
    ],
)  # fmt: skip
def test_check_refuses_a_target_no_run_can_miss_or_meet(write_yaml, bound, needles) -> None:
    target = {"metric": "p90_vein_to_vein_days", "arm": "cart", **bound}
    path = write_yaml(scenario_dict(targets=[target]))
    assert_user_error(cartsim("check", str(path)), f"{path}:", *needles)


def test_compare_warns_when_the_arms_differ_and_compares_the_common_ones(
    tmp_path: Path, write_yaml
) -> None:
    first, second = two_scenarios(write_yaml)
    data = yaml.safe_load(second.read_text())
    data["arms"]["cart_copy"] = data["arms"]["cart"]
    second.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "cmp"
    args = ["compare", str(first), str(second), "--out", str(out), "--workers", "1",
            "--replications", "2"]  # fmt: skip
    result = cartsim(*args)
    assert result.returncode == 0, result.stderr
    assert "arms differ" in result.stdout + result.stderr
    table = pd.read_parquet(out / "comparison.parquet")
    assert set(table.loc[table["scenario"] == "local - central", "arm"]) == {"cart"}
