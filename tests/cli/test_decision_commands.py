"""Decision commands end to end: EVPPI of a PSA folder and threshold values, with their report
sections."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import ROOT, assert_user_error, cartsim, scenario_dict

from cartsim.decide.stats import mean_ci
from cartsim.inputs.loading import load
from cartsim.runs.threshold import ThresholdStudy, inmb_by_replication, replication_means


def psa_scenario(folder: Path) -> Path:
    """Two arms; a used PSA parameter of each kind (ward stay, price) and an unused one."""
    param = {"unit": "days", "source": "test", "status": "E"}
    data = scenario_dict(
        name="decision <b>",
        run={"replications": 1, "arrival_window_days": 365, "horizon_days": 400},
        parameters={
            "cap_ward_days": {
                **param,
                "value": 14,
                "psa": {"dist": "uniform", "low": 10, "high": 18},
            },
            "cost_product": {
                **param,
                "unit": "EUR",
                "value": 40000,
                "psa": {"dist": "uniform", "low": 0, "high": 80000},
            },
            "cart_response": {
                **param,
                "unit": "share",
                "value": 0.7,
                "psa": {"dist": "uniform", "low": 0.4, "high": 1.0},
            },
            "unused_days": {**param, "value": 3, "psa": {"dist": "uniform", "low": 1, "high": 5}},
        },  # fmt: skip
    )
    data["arms"]["cart"]["stages"][5]["duration"] = "@cap_ward_days"
    data["economics"] = {"horizon_years": 5, "wtp_per_qaly": 50000}
    data["disease_course"] = {"SLE": {"utility_active": 0.5, "utility_remission": 0.8}}
    data["arms"]["cart"]["stages"][1]["costs"] = {"product": "@cost_product"}
    data["arms"]["cart"]["outcomes"] = {"SLE": {"response": "@cart_response", "response_days": 60}}
    data["arms"]["soc"] = {"stages": [{"name": "continue", "kind": "delay", "duration": 0}]}
    path = folder / "decision.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def psa_folder(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("psa")
    out = work / "psa"
    args = ["psa", str(psa_scenario(work)), "--iterations", "24", "--replications", "2"]
    result = cartsim(*args, "--workers", "1", "--out", str(out), "--evppi")
    assert result.returncode == 0, result.stderr
    assert "EVPPI" in result.stdout
    return out


def test_psa_evppi_writes_every_used_parameter_and_the_groups(psa_folder: Path) -> None:
    table = pd.read_parquet(psa_folder / "evppi.parquet")
    groups = set(table["group"])
    assert {"cap_ward_days", "cost_product", "cart_response", "group: all parameters"} <= groups
    assert "unused_days" not in groups  # the model does not use it
    assert (table["evppi_per_patient"] >= 0).all() and (table["se_per_patient"] >= 0).all()
    evpi = pd.read_parquet(psa_folder / "evpi.parquet")
    population = evpi["evpi_population"] / evpi["evpi_per_patient"]
    ratio = table["evppi_population"] / table["evppi_per_patient"]
    assert ratio.dropna().to_numpy() == pytest.approx(population.dropna().iloc[0])


def test_evppi_command_with_a_user_group_rewrites_the_table_and_report(psa_folder: Path) -> None:
    result = cartsim("evppi", str(psa_folder), "--group", "mine=cap_ward_days,cost_product",
                     "--bootstrap", "20", "--wtp", "30000")  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(psa_folder / "evppi.parquet")
    assert "group: mine" in set(table["group"]) and (table["wtp"] == 30000).all()
    assert "group: mine" in result.stdout and "per patient" in result.stdout
    html = (psa_folder / "report.html").read_text(encoding="utf-8")
    assert "Value of further information" in html and "group: mine" in html
    assert "Uncertainty of the PSA" in html and "patient-level noise" in html
    assert "decision &lt;b&gt;" in html and "decision <b>" not in html


def test_evppi_refuses_a_folder_without_psa_tables_and_bad_groups(
    psa_folder: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    done = cartsim("run", str(psa_scenario(tmp_path)), "--out", str(run), "--replications", "2")
    assert done.returncode == 0, done.stderr
    before = sorted(p.name for p in run.iterdir())
    assert_user_error(cartsim("evppi", str(run)), "not a PSA folder", str(run))
    assert sorted(p.name for p in run.iterdir()) == before
    assert_user_error(cartsim("evppi", str(tmp_path / "nothing")), "manifest")
    bad = cartsim("evppi", str(psa_folder), "--group", "x=unused_days")
    assert_user_error(bad, "--group", "unused_days")


SCENARIO = ROOT / "scenarios" / "cart_vs_asct.yaml"
SMALL = ["run.arrival_window_days=730", "run.horizon_days=900", "run.warmup_days=0"]
PRICE = "cost_cart_product_commercial"


def test_threshold_command_reruns_to_zero_inmb_and_draws_the_grid(tmp_path: Path) -> None:
    out = tmp_path / "threshold"
    sets = [a for s in SMALL for a in ("--set", s)]
    result = cartsim(
        "threshold", str(SCENARIO), "--parameter", PRICE, "--arm", "cart_commercial",
        "--by", "wtp", "--values", "0,300000,600000", "--by-values", "0,50000,100000",
        "--replications", "3", "--workers", "1", "--out", str(out), *sets,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "threshold.parquet")
    assert set(table["comparator"]) == {"cart", "ahsct", "soc"}
    for row in table.itertuples():
        assert f"{row.threshold:,.6g}" in result.stdout
    source = load(SCENARIO, [*SMALL, "run.replications=3"])
    study = ThresholdStudy(PRICE, "cart_commercial", replications=3)
    for row in table[table["threshold"].map(math.isfinite)].itertuples():
        means = replication_means(source, {PRICE: row.threshold}, study)
        inmb = inmb_by_replication(means, "cart_commercial", row.comparator, row.wtp)
        _, low, high = mean_ci(inmb)
        assert low <= 0.0 <= high, row.comparator
    grid = pd.read_parquet(out / "threshold_grid.parquet")
    assert len(grid) == 9 and set(grid["by"]) == {"wtp"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Threshold and value-based price" in html and "Preferred arm" in html


def test_threshold_refuses_bad_options(tmp_path: Path) -> None:
    base = ["threshold", str(SCENARIO), "--arm", "cart_commercial", "--out", str(tmp_path / "t")]
    assert_user_error(cartsim(*base, "--parameter", "nope"), "unknown parameter", "--parameter")
    bad_values = cartsim(*base, "--parameter", PRICE, "--by", "wtp", "--values", "a,b",
                         "--by-values", "1")  # fmt: skip
    assert_user_error(bad_values, "--values")
    assert not (tmp_path / "t").exists()
