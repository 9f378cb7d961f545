"""Money conversion: the shipped tables' own numbers, round trips, and conversion when building."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cartsim.inputs.errors import CartsimError, ScenarioError
from cartsim.inputs.loading import load
from cartsim.inputs.money import parse_tables, tables

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "cartsim" / "data" / "money.yaml"


def raw_tables() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def change(currency: str, year: int) -> float:
    return raw_tables()["price_indices"][currency]["values"][year]["value"] / 100.0


def ecb(currency: str, year: int) -> float:
    return raw_tables()["rates"]["exchange_rate"]["values"][currency][year]["value"]


def test_every_figure_has_a_status_and_every_table_a_source() -> None:
    data = raw_tables()
    groups = [*data["price_indices"].values(), *data["rates"].values()]
    for table in groups:
        assert table["source"] and table["retrieval"]
    figures = [v for t in data["price_indices"].values() for v in t["values"].values()]
    figures += [v for t in data["rates"].values() for c in t["values"].values() for v in c.values()]
    assert figures and all(f["status"] in ("F", "F2", "B", "M", "E") for f in figures)


def test_eur_2022_to_gbp_2024_is_inflation_then_the_rate() -> None:
    expected = (1 + change("EUR", 2023)) * (1 + change("EUR", 2024)) * ecb("GBP", 2024)
    assert tables().factor("EUR", 2022, "GBP", 2024) == pytest.approx(expected, rel=1e-12)


def test_gbp_to_usd_goes_through_the_base_currency() -> None:
    expected = ecb("USD", 2023) / ecb("GBP", 2023) * (1 + change("GBP", 2023))
    assert tables().factor("GBP", 2022, "USD", 2023) == pytest.approx(expected, rel=1e-12)


def test_same_currency_and_year_is_exactly_one() -> None:
    assert tables().factor("EUR", 2024, "EUR", 2024) == 1.0


@pytest.mark.parametrize("conversion", ["exchange_rate", "ppp"])
def test_round_trip_between_currencies_in_one_year(conversion: str) -> None:
    there = tables().factor("EUR", 2021, "GBP", 2021, conversion)  # type: ignore[arg-type]
    back = tables().factor("GBP", 2021, "EUR", 2021, conversion)  # type: ignore[arg-type]
    assert there != 1.0 and there * back == pytest.approx(1.0, rel=1e-12)


def test_round_trip_between_years_within_a_currency() -> None:
    up = tables().factor("USD", 2017, "USD", 2024)
    assert up > 1.0 and up * tables().factor("USD", 2024, "USD", 2017) == pytest.approx(1.0)


def test_ppp_uses_the_ppp_table() -> None:
    ppp = raw_tables()["rates"]["ppp"]["values"]
    expected = ppp["GBP"][2020]["value"] / ppp["EUR"][2020]["value"]
    assert tables().factor("EUR", 2020, "GBP", 2020, "ppp") == pytest.approx(expected)


def test_a_year_outside_the_table_is_refused_not_extrapolated() -> None:
    with pytest.raises(CartsimError, match="2031"):
        tables().factor("EUR", 2024, "GBP", 2031)
    with pytest.raises(CartsimError, match="currency 'XYZ'"):
        tables().factor("XYZ", 2020, "EUR", 2024)


def test_a_missing_year_in_a_rate_of_change_table_is_refused() -> None:
    data = raw_tables()
    del data["price_indices"]["EUR"]["values"][2019]
    with pytest.raises(CartsimError, match="2019 missing"):
        parse_tables(data)


def test_building_converts_money_parameters_and_leaves_the_rest() -> None:
    source = load(ROOT / "scenarios" / "cart_vs_asct.yaml",
                  ["currency=GBP", "money.currency=EUR", "money.price_year=2024"])  # fmt: skip
    euro = load(ROOT / "scenarios" / "cart_vs_asct.yaml").build()
    pounds = source.build()
    rate = ecb("GBP", 2024)
    assert pounds.currency == "GBP"
    stage, stage_eur = (
        pounds.arms["cart_commercial"].stages[2],
        euro.arms["cart_commercial"].stages[2],
    )
    assert stage.costs["product"] == pytest.approx(stage_eur.costs["product"] * rate)
    assert stage.duration == stage_eur.duration  # days are not money
    assert pounds.arms["cart"].outcomes["SLE"] == euro.arms["cart"].outcomes["SLE"]
    draw = source.build({"cost_cart_product_commercial": 280_000.0})  # a draw in its own unit
    assert draw.arms["cart_commercial"].stages[2].costs["product"] == pytest.approx(280_000 * rate)


def test_a_unit_in_another_currency_than_the_default_is_refused_with_file_and_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        load(ROOT / "scenarios" / "cart_vs_asct.yaml", ["currency=GBP"])
    assert "currency" in str(caught.value) and ".yaml:" in str(caught.value)


def test_a_price_year_the_tables_lack_is_one_line() -> None:
    with pytest.raises(ScenarioError, match="2031"):
        load(ROOT / "scenarios" / "cart_vs_asct.yaml", ["price_year=2031"])
