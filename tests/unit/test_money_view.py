"""Parameters and quoted amounts shown in the scenario's money: values, units, PSA, free text."""

from __future__ import annotations

import math

import pytest

from cartsim.inputs.money import tables
from cartsim.inputs.money_view import money_view

EUR_GBP = tables().factor("EUR", 2024, "GBP", 2024)
USD_GBP = tables().factor("USD", 2024, "GBP", 2024)
PARAMS = {
    "price": {"value": 300000, "unit": "EUR 2024", "currency": "EUR", "price_year": 2024,
              "psa": {"dist": "gamma", "shape": 9, "scale": 10000},
              "source": "[R39] STAT 2023 (ARI-0001 EUR 89k); USD 373-475k; € 1,200/day"},
    "ward": {"value": 700, "unit": "EUR 2022 per day", "currency": "EUR", "price_year": 2022,
             "psa": {"dist": "lognormal", "mu": 6.5, "sigma": 0.3}},
    "nhs": {"value": 500, "unit": "GBP 2024 per day", "currency": "GBP",
            "source": "GBP 500 (NHS)"},
    "prob": {"value": 0.3, "unit": "probability", "psa": {"dist": "beta", "alpha": 3, "beta": 7},
             "description": "not money: 30 EUR-free words"},
}  # fmt: skip
GBP = {"currency": "GBP", "price_year": 2024, "money": {"currency": "EUR", "price_year": 2024}}


def test_money_parameters_are_converted_with_their_own_price_year() -> None:
    view = money_view({**GBP, "parameters": PARAMS})
    assert view.value("price", 300000) == pytest.approx(300000 * EUR_GBP)
    ward = tables().factor("EUR", 2022, "GBP", 2024)
    assert ward != pytest.approx(EUR_GBP)  # inflated from 2022 first
    assert view.value("ward", 700) == pytest.approx(700 * ward)
    assert view.unit("ward", "EUR 2022 per day") == "GBP 2024 per day"
    assert view.unit("price", "EUR 2024") == "GBP 2024"
    for name in ("nhs", "prob"):  # already in the scenario's money, or not money
        assert view.value(name, PARAMS[name]["value"]) == PARAMS[name]["value"]
        assert view.unit(name, PARAMS[name]["unit"]) == PARAMS[name]["unit"]


def test_a_distribution_is_scaled_in_its_money_parameters_only() -> None:
    view = money_view({**GBP, "parameters": PARAMS})
    assert view.distribution("price", PARAMS["price"]["psa"]) == {
        "dist": "gamma", "shape": 9, "scale": pytest.approx(10000 * EUR_GBP)
    }  # fmt: skip
    ward = view.distribution("ward", PARAMS["ward"]["psa"])
    factor = tables().factor("EUR", 2022, "GBP", 2024)
    assert math.exp(ward["mu"]) == pytest.approx(math.exp(6.5) * factor)  # median scaled
    assert ward["sigma"] == 0.3
    assert view.distribution("prob", PARAMS["prob"]["psa"]) == PARAMS["prob"]["psa"]


def test_quoted_amounts_are_converted_marked_and_the_rates_noted() -> None:
    view = money_view({**GBP, "parameters": PARAMS})
    text = view.text(PARAMS["price"]["source"])
    assert "EUR" not in text and "USD" not in text and "€" not in text
    assert f"GBP {89 * EUR_GBP:.1f}k*" in text
    assert f"GBP {373 * USD_GBP:.0f}-{475 * USD_GBP:.0f}k*" in text
    assert f"GBP {1200 * EUR_GBP:,.0f}*/day" in text
    assert view.text("GBP 500 (NHS)") == "GBP 500 (NHS)"  # the scenario's own money: as found
    assert view.text("ICU 3 days, CV 33%") == "ICU 3 days, CV 33%"  # not a currency
    notes = " ".join(view.notes())
    assert f"{EUR_GBP:.6g} GBP each" in notes and f"{USD_GBP:.6g} GBP each" in notes
    assert "2 money parameter(s)" not in notes  # grouped by currency and price year
    assert "in euro of 2024" in notes and "in euro of 2022" in notes
    assert "EUR" not in notes


def test_a_scenario_in_the_evidence_money_changes_nothing() -> None:
    euro = {"currency": "EUR", "price_year": 2024, "parameters": {"price": PARAMS["price"]}}
    view = money_view(euro)
    assert view.value("price", 300000) == 300000
    assert view.unit("price", "EUR 2024") == "EUR 2024"
    assert view.text("EUR 89k") == "EUR 89k"
    assert not view.notes()


def test_the_unit_alone_can_make_a_parameter_money() -> None:
    raw = {**GBP, "parameters": {"day": {"value": 100, "unit": "EUR 2024 per day"}}}
    view = money_view(raw)
    assert view.value("day", 100) == pytest.approx(100 * EUR_GBP)
    assert view.unit("day", "EUR 2024 per day") == "GBP 2024 per day"


def test_a_money_unit_without_a_currency_code_gets_one() -> None:
    stated = {"value": 10, "unit": "per day", "currency": "EUR", "price_year": 2024}
    view = money_view({**GBP, "parameters": {"fee": stated}})
    assert view.unit("fee", "per day") == "GBP 2024 per day"


def test_a_distribution_of_a_parameter_that_is_not_money_is_left_as_it_is() -> None:
    days = {"value": 12, "unit": "days", "psa": {"dist": "gamma", "shape": 4, "scale": 3}}
    view = money_view({**GBP, "parameters": {"days": days}})
    assert view.distribution("days", days["psa"]) == days["psa"]
    assert view.value("days", 12) == 12


def test_zero_and_the_defaults_of_the_scenario() -> None:
    view = money_view({"currency": "GBP", "parameters": PARAMS})  # price year: 2024
    assert view.year == 2024 and view.conversion == "exchange_rate"
    assert view.text("EUR 0 a year") == "GBP 0* a year"
    ppp = {"currency": "GBP", "price_year": 2022, "money": {"conversion": "ppp"}}
    view = money_view({**ppp, "parameters": PARAMS})
    assert view.conversion == "ppp"
    assert view.value("price", 1.0) == pytest.approx(
        tables().factor("EUR", 2024, "GBP", 2022, "ppp")
    )
