"""Money between currencies and price years: price indices and conversion rates shipped as data.

An amount of ``currency`` in prices of ``year`` is moved to ``target`` currency and
``target_year`` in two steps: it is inflated within its own currency with that currency's price
index (EUR: Eurostat HICP; GBP: ONS CPIH; USD: BLS CPI-U), then converted at the target year's
rate, either market exchange rates (ECB reference rates, annual averages) or purchasing power
parities (OECD PPPs for GDP). The tables, with their sources and the status of each figure, are
``cartsim/data/money.yaml``; a year or currency they do not hold is refused, never extrapolated.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import Field

from cartsim.inputs.errors import CartsimError
from cartsim.inputs.fields import Strict

Conversion = Literal["exchange_rate", "ppp"]
CONVERSIONS: tuple[Conversion, ...] = ("exchange_rate", "ppp")
TABLES_FILE = "money.yaml"


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
PriceYear = Annotated[int, Field(ge=1990, le=2100)]


class Money(Strict):
    """How amounts of money in other currencies and price years are brought to the scenario's."""

    conversion: Literal["exchange_rate", "ppp"] = Field(
        default="exchange_rate",
        description="between currencies: exchange_rate (ECB annual averages) or ppp (OECD "
        "purchasing power parities for GDP), of the scenario's price year",
    )
    currency: Currency | None = Field(
        default=None,
        description="currency (ISO code) of money parameters that state none "
        "(default: the scenario's currency)",
    )
    price_year: PriceYear | None = Field(
        default=None,
        description="price year of money parameters that state none "
        "(default: the scenario's price_year)",
    )


@dataclass(frozen=True)
class MoneyTables:
    """Price indices (chained, first year 100) and conversion rates per currency and year."""

    indices: dict[str, dict[int, float]]
    rates: dict[str, dict[str, dict[int, float]]]  # conversion -> currency -> year -> per base
    bases: dict[str, str]  # conversion -> the currency its rates are expressed per unit of
    names: dict[str, str] = field(default_factory=dict)  # currency -> its name

    def currencies(self) -> list[str]:
        return sorted(self.indices)

    def index(self, currency: str, year: int) -> float:
        """Price index of ``currency`` in ``year`` (the table's first year = 100)."""
        table = self.indices.get(currency)
        if table is None:
            raise CartsimError(f"no price index for currency {currency!r} (known: "
                               f"{', '.join(self.currencies())})")  # fmt: skip
        if year not in table:
            raise CartsimError(f"the {currency} price index covers {min(table)}-{max(table)}, "
                               f"not {year}")  # fmt: skip
        return table[year]

    def rate(self, conversion: Conversion, currency: str, year: int) -> float:
        """Units of ``currency`` per unit of the conversion's base currency in ``year``."""
        if conversion not in self.rates:
            raise CartsimError(f"unknown conversion {conversion!r} (known: {list(CONVERSIONS)})")
        if currency == self.bases[conversion]:
            return 1.0
        table = self.rates[conversion].get(currency)
        if table is None or year not in table:
            years = f"{min(table)}-{max(table)}" if table else "no years"
            raise CartsimError(f"no {conversion} rate for {currency} in {year} (the table holds "
                               f"{years})")  # fmt: skip
        return table[year]

    def factor(
        self,
        currency: str,
        year: int,
        target: str,
        target_year: int,
        conversion: Conversion = "exchange_rate",
    ) -> float:
        """What one unit of ``currency`` at ``year`` prices is in ``target`` at ``target_year``.

        Inflated within ``currency`` from ``year`` to ``target_year``, then converted at the
        rate of ``target_year``. The same currency and year give exactly 1.
        """
        inflate = 1.0 if year == target_year else (
            self.index(currency, target_year) / self.index(currency, year)
        )  # fmt: skip
        if currency == target:
            return inflate
        rate = self.rate(conversion, target, target_year) / self.rate(
            conversion, currency, target_year
        )
        return inflate * rate


def _number(value: Any, where: str) -> float:
    number = value.get("value") if isinstance(value, dict) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise CartsimError(f"{where}: not a finite number", file=TABLES_FILE)
    if isinstance(value, dict) and value.get("status") not in ("F", "F2", "B", "M", "E"):
        raise CartsimError(f"{where}: status must be one of F, F2, B, M, E", file=TABLES_FILE)
    return float(number)


def parse_tables(data: dict[str, Any]) -> MoneyTables:
    """Money tables from the mapping of ``money.yaml`` (rates of change chained to an index)."""
    indices: dict[str, dict[int, float]] = {}
    for currency, table in data["price_indices"].items():
        changes = {int(y): _number(v, f"{currency} {y}") for y, v in table["values"].items()}
        level, chained = 100.0, {min(changes) - 1: 100.0}
        for year in range(min(changes), max(changes) + 1):
            if year not in changes:
                raise CartsimError(f"{currency} price index: {year} missing", file=TABLES_FILE)
            level *= 1.0 + changes[year] / 100.0
            chained[year] = level
        indices[str(currency)] = chained
    rates: dict[str, dict[str, dict[int, float]]] = {}
    bases: dict[str, str] = {}
    for conversion, table in data["rates"].items():
        bases[conversion] = str(table["base"])
        rates[conversion] = {
            str(c): {int(y): _number(v, f"{conversion} {c} {y}") for y, v in years.items()}
            for c, years in table["values"].items()
        }
    names = {str(c): str(t.get("name", c)) for c, t in data["price_indices"].items()}
    return MoneyTables(indices=indices, rates=rates, bases=bases, names=names)


@functools.cache
def tables() -> MoneyTables:
    """The shipped money tables (read once)."""
    text = resources.files("cartsim").joinpath("data", TABLES_FILE).read_text(encoding="utf-8")
    return parse_tables(yaml.safe_load(text))


class MoneyParameter(Protocol):
    """What :func:`parameter_factors` reads of a parameter."""

    unit: str
    currency: str | None
    price_year: int | None


def parameter_money(
    param: MoneyParameter, default_currency: str, default_year: int
) -> tuple[str, int] | None:
    """Currency and price year of a parameter's value, or None when it is not money.

    A parameter is money when it states ``currency`` or ``price_year`` or its unit starts with a
    currency code of the tables (``EUR 2024 per day``); what it leaves out is the default.
    """
    first = param.unit.split()[0] if param.unit.split() else ""
    named = first if first in tables().indices else None
    if param.currency is None and param.price_year is None and named is None:
        return None
    currency = param.currency or default_currency
    if named is not None and named != currency:
        raise CartsimError(f"its unit is {named} but its currency is {currency}: state "
                           f"currency: {named}", field="currency")  # fmt: skip
    return currency, param.price_year or default_year


def parameter_factors(
    parameters: Mapping[str, MoneyParameter], raw: Mapping[str, Any]
) -> dict[str, float]:
    """Factor taking each money parameter to the scenario's currency and price year.

    ``raw`` is the composed scenario mapping: ``currency`` and ``price_year`` (the target) and
    ``money`` (``conversion``; ``currency`` and ``price_year`` of parameters that state none,
    by default the target's). Parameters that are not money are left out.
    """
    target = raw.get("currency", "EUR")
    target_year = raw.get("price_year", 2024)
    money = raw.get("money") or {}
    if not (isinstance(target, str) and isinstance(target_year, int) and isinstance(money, dict)):
        return {}  # malformed: the scenario's validation names the field
    conversion = money.get("conversion", "exchange_rate")
    default_currency = money.get("currency") or target
    default_year = money.get("price_year") or target_year
    if conversion not in CONVERSIONS or not isinstance(default_currency, str):
        return {}
    if not isinstance(default_year, int):
        return {}
    factors: dict[str, float] = {}
    for name, param in parameters.items():
        try:
            found = parameter_money(param, default_currency, default_year)
            if found is not None and found != (target, target_year):
                factors[name] = tables().factor(*found, target, target_year, conversion)
        except CartsimError as exc:
            where = f"parameters.{name}.{exc.field or 'currency'}"
            raise CartsimError(exc.message, field=where) from None
    return factors
