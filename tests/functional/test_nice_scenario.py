"""The NICE reference case: GBP 2024 everywhere, and the severity modifier applied and shown."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from builders import ROOT, cartsim

from cartsim.decide.severity import qaly_weight
from cartsim.decide.stats import mean_ci
from cartsim.inputs.loading import load
from cartsim.inputs.money import tables
from cartsim.runs.draws import parameter_draws
from cartsim.runs.threshold import (
    ThresholdStudy,
    inmb_by_replication,
    replication_means,
    threshold_table,
)

NICE = ROOT / "scenarios" / "nice_reference_case.yaml"
SHORT = ["--set", "run.replications=2", "--set", "run.arrival_window_days=730",
         "--set", "run.horizon_days=900", "--set", "run.warmup_days=0"]  # fmt: skip
PARAMETER_TABLE = re.compile(r'<table class="data params".*?</table>', re.S)
FOREIGN = re.compile(r"EUR|€")  # money the scenario does not use
SMALL = ["run.arrival_window_days=730", "run.horizon_days=900", "run.warmup_days=0"]
PRICE = "cost_cart_product_commercial"


def assert_no_foreign_money(frame: pd.DataFrame, name: str) -> None:
    """No column name nor text cell of ``frame`` names EUR or €."""
    assert not [c for c in frame.columns if FOREIGN.search(str(c))], name
    for column in frame.select_dtypes(include=["object", "string", "category"]).columns:
        found = frame[column].astype(str).str.contains(FOREIGN)
        assert not found.any(), f"{name}.{column}: {frame.loc[found, column].iloc[0]}"


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


def test_no_eur_in_the_console_the_report_or_any_table(nice_run: tuple[Path, str]) -> None:
    out, printed = nice_run
    assert "GBP 2024" in printed and not FOREIGN.search(printed)
    html = (out / "report.html").read_text(encoding="utf-8")
    params = PARAMETER_TABLE.search(html)
    assert params and "GBP 2024 per day" in params.group(0)
    assert not FOREIGN.search(html), FOREIGN.findall(html)[:5]
    # the parameter table says what it converted, from which currency and at which rate
    rate = tables().factor("EUR", 2024, "GBP", 2024)
    assert "in euro of 2024 are shown in GBP 2024" in html and f"multiplied by {rate:.6g}" in html
    assert "ARI-0001 GBP " in params.group(0) and f"converted at {rate:.6g} GBP each" in html
    tables_read = sorted(out.glob("*.parquet"))
    assert len(tables_read) >= 8
    for table in tables_read:
        assert_no_foreign_money(pd.read_parquet(table), table.name)


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


@pytest.mark.parametrize(
    "command",
    [
        ["psa", "--iterations", "12", "--replications", "1", "--evppi"],
        ["threshold", "--parameter", PRICE, "--arm", "cart_commercial", "--by", "wtp",
         "--values", "0,300000", "--by-values", "20000,30000", "--replications", "3"],
        ["scenarios", "--replications", "2"],
        pytest.param(["dsa", "--replications", "2"], marks=pytest.mark.slow),
    ],
    ids=["psa", "threshold", "scenarios", "dsa"],
)  # fmt: skip
def test_the_analyses_of_the_reference_case_show_no_eur(command: list[str], tmp_path: Path) -> None:
    out = tmp_path / command[0]
    result = cartsim(command[0], str(NICE), *command[1:], "--out", str(out), "--workers", "1",
                     *SHORT[2:])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not FOREIGN.search(result.stdout)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "GBP 2024" in html and not FOREIGN.search(html), FOREIGN.findall(html)[:5]
    written = sorted(out.glob("*.parquet"))
    assert written
    for table in written:
        assert_no_foreign_money(pd.read_parquet(table), table.name)
    rate = tables().factor("EUR", 2024, "GBP", 2024)
    if command[0] == "psa":  # drawn money in pounds, as the model used it
        drawn = pd.read_parquet(out / "psa_parameters.parquet")
        source = load(NICE)
        own = parameter_draws(source, drawn["iteration"].tolist())
        assert drawn[f"param_{PRICE}"].to_numpy() == pytest.approx(
            own[f"param_{PRICE}"].to_numpy() * rate
        )
        unconverted = "param_cart_relapse_hazard"
        assert drawn[unconverted].to_numpy() == pytest.approx(own[unconverted].to_numpy())
    if command[0] == "scenarios":
        described = pd.read_parquet(out / "scenarios.parquet")["description"]
        assert described.str.contains(f"GBP {210 * rate:.1f}k|GBP {210_000 * rate:,.0f}").any()
        assert described.str.contains(f"converted from euro at {rate:.6g} GBP each").any()
    if command[0] == "dsa":
        dsa = pd.read_parquet(out / "dsa.parquet").set_index("parameter")
        assert dsa.loc[PRICE, "unit"].iloc[0] == "GBP 2024"
        low, high = load(NICE).parameters[PRICE].sensitivity_range() or (0.0, 0.0)
        assert dsa.loc[PRICE, "low_value"].iloc[0] == pytest.approx(low * rate)
        assert dsa.loc[PRICE, "high_value"].iloc[0] == pytest.approx(high * rate)


def test_a_threshold_price_is_in_pounds_and_breaks_even_when_rerun() -> None:
    source = load(NICE, SMALL)
    study = ThresholdStudy(PRICE, "cart_commercial", replications=3)
    table = threshold_table(source, study)
    rate = tables().factor("EUR", 2024, "GBP", 2024)
    assert (table["unit"] == "GBP 2024").all()
    assert table["base_value"].iloc[0] == pytest.approx(300_000 * rate)
    base = replication_means(source, {}, study)  # the base case, built from the evidence as is
    wtp = table["wtp"].iloc[0]
    for row in table.itertuples():
        inmb = inmb_by_replication(base, "cart_commercial", row.comparator, wtp)
        assert row.inmb_base == pytest.approx(inmb.mean())
        again = replication_means(source, {PRICE: row.threshold}, study)
        _, low, high = mean_ci(inmb_by_replication(again, "cart_commercial", row.comparator, wtp))
        assert low <= 0.0 <= high, row.comparator
