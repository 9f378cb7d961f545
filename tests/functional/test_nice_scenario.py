"""The NICE reference case: GBP 2024 everywhere, and the severity modifier applied and shown."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from builders import ROOT, cartsim

from cartsim.decide.severity import qaly_weight
from cartsim.inputs.loading import load

NICE = ROOT / "scenarios" / "nice_reference_case.yaml"
SHORT = ["--set", "run.replications=2", "--set", "run.arrival_window_days=730",
         "--set", "run.horizon_days=900", "--set", "run.warmup_days=0"]  # fmt: skip
PARAMETER_TABLE = re.compile(r'<table class="data params".*?</table>', re.S)


@pytest.fixture(scope="module")
def nice_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("nice") / "run"
    result = cartsim("run", str(NICE), "--out", str(out), "--no-events", "--workers", "1", *SHORT)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_the_reference_case_settings() -> None:
    scenario = load(NICE).build()
    eco = scenario.economics
    assert eco is not None
    assert (scenario.currency, scenario.price_year) == ("GBP", 2024)
    assert eco.discount_rate_costs == eco.discount_rate_effects == 0.035
    assert (eco.wtp_per_qaly, eco.wtp_per_qaly_upper) == (20_000, 30_000)
    assert eco.severity_modifier and eco.reference_arm == "soc"
    assert "NHS" in eco.perspective and eco.horizon_years is None


def test_no_eur_in_the_console_or_the_report(nice_run: tuple[Path, str]) -> None:
    out, printed = nice_run
    assert "GBP 2024" in printed and "EUR" not in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "GBP" in html and PARAMETER_TABLE.search(html)
    # the parameter table quotes the evidence as found, in its own currency; nothing else may
    assert "EUR" not in PARAMETER_TABLE.sub("", html)


def test_costs_are_converted(nice_run: tuple[Path, str]) -> None:
    out, _ = nice_run
    patients = pd.read_parquet(out / "patients.parquet")
    euro = load(ROOT / "scenarios" / "cart_vs_asct.yaml").build()
    pounds = load(NICE).build()
    product = "cart_commercial"
    assert (
        pounds.arms[product].stages[2].costs["product"]
        < euro.arms[product].stages[2].costs["product"]
    )
    assert patients["cost_total"].notna().all()


def test_the_severity_modifier_is_written_and_applied(nice_run: tuple[Path, str]) -> None:
    out, printed = nice_run
    shortfall = pd.read_parquet(out / "severity.parquet").iloc[0]
    assert 0 < shortfall["qaly_current_practice"] < shortfall["qale_general_population"]
    weight = shortfall["qaly_weight"]
    assert weight == qaly_weight(shortfall["absolute_shortfall"],
                                 shortfall["proportional_shortfall"])  # fmt: skip
    compared = pd.read_parquet(out / "severity_comparisons.parquet")
    assert set(compared["wtp"]) == {20_000, 30_000}
    assert set(compared["qaly_weight"]) == {1.0, weight}
    plain = compared[compared["qaly_weight"] == 1.0].set_index(["intervention", "wtp"])
    heavy = compared[compared["qaly_weight"] == weight].set_index(["intervention", "wtp"])
    inmb = weight * plain["delta_qaly"] * plain.index.get_level_values("wtp") - plain["delta_cost"]
    assert heavy["inmb"].to_numpy() == pytest.approx(inmb.to_numpy())
    assert "QALY weight" in printed and "severity" in printed
    assert "Severity modifier" in (out / "report.html").read_text(encoding="utf-8")
