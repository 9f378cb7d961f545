"""The shipped therapies scenario from the command line: check, run (footprint, threshold prices,
report section), and refusals of a bad ``threshold_prices``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import ROOT, assert_user_error, cartsim

SCENARIO = ROOT / "scenarios" / "therapies_2026.yaml"
SHORT = ["--set", "run.arrival_window_days=500", "--set", "run.horizon_days=900",
         "--set", "run.warmup_days=0"]  # fmt: skip
PRODUCTS = ("allo_cart", "cd19bcma_cart", "fast_cart", "teclistamab")


def test_the_scenario_passes_check() -> None:
    result = cartsim("check", str(SCENARIO))
    assert result.returncode == 0, result.stderr
    assert "8 arm(s)" in result.stdout


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("threshold_prices.against=nobody", ("threshold_prices.against", "'nobody'")),
        ("threshold_prices.prices.allo_cart=no_such_price", ("prices.allo_cart", "no_such_price")),
        ("threshold_prices.prices.allo_cart=cart_trm", ("prices.allo_cart", "not money")),
        (
            "threshold_prices.prices.allo_cart=cost_cart_product_academic",
            ("prices.allo_cart", "not used by arm 'allo_cart'"),
        ),
        (
            "arms.allo_cart.stages.admission.costs.product=300000",
            ("prices.allo_cart", "referred to nowhere"),
        ),
    ],
)
def test_a_bad_threshold_price_is_one_line(override: str, needles: tuple[str, ...]) -> None:
    result = cartsim("check", str(SCENARIO), "--set", override)
    assert_user_error(result, "therapies_2026.yaml", *needles)


def test_a_number_in_place_of_a_price_is_fine_where_no_threshold_is_found(tmp_path: Path) -> None:
    """With one replication ``run`` finds no threshold price, so a number put where the price
    was referred to is no mistake; with more, ``run`` refuses it before simulating."""
    literal = "arms.allo_cart.stages.admission.costs.product=300000"
    result = cartsim("check", str(SCENARIO), "--set", literal, "--set", "run.replications=1")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "run"
    refused = cartsim("run", str(SCENARIO), "--set", literal, "--out", str(out), "--no-report")
    assert_user_error(refused, "threshold_prices.prices.allo_cart", "referred to nowhere")
    assert not out.exists()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("therapies") / "run"
    args = ["run", str(SCENARIO), "--replications", "3", "--workers", "1", "--out", str(out)]
    result = cartsim(*args, *SHORT)
    assert result.returncode == 0, result.stderr
    return out


def test_run_writes_the_footprint_of_every_arm(run_dir: Path) -> None:
    footprint = pd.read_parquet(run_dir / "footprint.parquet")
    per = footprint.set_index(["arm", "metric"])["mean"]
    assert per[("teclistamab", "apheresis_days_per_treated")] == 0
    assert per[("teclistamab", "manufacturing_days_per_treated")] == 0
    # two runs on the device per CD19 + BCMA patient: about twice the CD19 product's days
    ratio = (
        per[("cd19bcma_cart", "manufacturing_days_per_treated")]
        / per[("cart", "manufacturing_days_per_treated")]
    )
    assert 1.6 < ratio < 2.4
    assert np.isnan(per[("soc", "ward_bed_days_per_treated")])  # treats nobody


def test_run_finds_a_threshold_price_per_product_against_academic_cart(run_dir: Path) -> None:
    prices = pd.read_parquet(run_dir / "threshold_prices.parquet").set_index("arm")
    assert set(prices.index) == set(PRODUCTS)
    assert (prices["comparator"] == "cart").all()
    assert (prices["method"] == "linear (Fieller)").all()
    # the INMB at the base price and the threshold agree in sign with the headroom
    assert (np.sign(prices["inmb_base"]) == np.sign(prices["headroom"])).all()
    closed = prices[
        np.isfinite(prices["threshold_ci_low"]) & np.isfinite(prices["threshold_ci_high"])
    ]
    assert (closed["threshold_ci_low"] <= closed["threshold"]).all()
    assert (closed["threshold"] <= closed["threshold_ci_high"]).all()


def test_the_report_compares_capacity_and_value(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="comparison"' in html
    assert "Threshold prices" in html
    assert "allo_cart_product_cost" in html and "Inputs that are estimates" in html


def test_psa_runs_on_the_scenario(tmp_path: Path) -> None:
    out = tmp_path / "psa"
    args = ["psa", str(SCENARIO), "--iterations", "3", "--workers", "1", "--out", str(out)]
    result = cartsim(*args, *SHORT)
    assert result.returncode == 0, result.stderr
    psa = pd.read_parquet(out / "psa.parquet")
    assert set(PRODUCTS) <= set(psa["arm"].astype(str))
    assert psa.groupby("iteration")["arm"].nunique().eq(8).all()
    drawn = pd.read_parquet(out / "psa_parameters.parquet")
    assert drawn["param_allo_cart_product_cost"].nunique() == 3  # an estimate: drawn each time


@pytest.mark.slow
def test_dsa_runs_on_the_scenario(tmp_path: Path) -> None:
    out = tmp_path / "dsa"
    short = ["--set", "run.arrival_window_days=200", "--set", "run.horizon_days=400",
             "--set", "run.warmup_days=0"]  # fmt: skip
    result = cartsim("dsa", str(SCENARIO), "--replications", "1", "--out", str(out), *short)
    assert result.returncode == 0, result.stderr
    dsa = pd.read_parquet(out / "dsa.parquet")
    ranged = set(dsa["parameter"].astype(str))
    assert {"allo_cart_product_cost", "tec_dose_cost", "fast_cart_release_days"} <= ranged


def test_one_replication_runs_without_threshold_prices(tmp_path: Path) -> None:
    out = tmp_path / "one"
    args = ["run", str(SCENARIO), "--replications", "1", "--no-report", "--out", str(out)]
    result = cartsim(*args, "--workers", "1", *SHORT)
    assert result.returncode == 0, result.stderr
    assert "threshold prices left out" in result.stdout + result.stderr
    assert (out / "footprint.parquet").is_file()
    assert not (out / "threshold_prices.parquet").exists()
