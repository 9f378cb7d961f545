"""Parameters and free text shown in the scenario's own money.

The evidence files keep every figure as found, in its own currency and price year. A scenario in
another currency (or price year) is run in its own money (:mod:`cartsim.inputs.money`), and what
the user reads must be in that money too: a money parameter's value, unit and PSA distribution are
shown multiplied by its conversion factor, and amounts quoted in free text (``EUR 89k``,
``USD 373-475k``, ``€ 2,000``) are converted at the scenario's rate of its price year and marked
with ``*``. Amounts in free text are not inflated: their price year is the one the text states.
:meth:`MoneyView.notes` says what was converted, from which currency and at which rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cartsim.inputs.errors import CartsimError
from cartsim.inputs.money import CONVERSIONS, Conversion, parameter_factors, parameter_money, tables

SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD"}
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:k|M|m|bn)\b)?"
# a currency code or symbol, an amount, optionally a range (60-120k, 40-60/g) and a scale
MONEY_TEXT = re.compile(
    rf"(?P<cur>\b[A-Z]{{3}}\b|[€£$])\s?(?P<a>{_AMOUNT})"
    rf"(?:(?P<sep>\s?(?:-|–|to)\s?)(?P<b>{_AMOUNT}))?(?P<scale>{_SCALE})"
)
# a money unit: currency code, optional price year, the rest (``EUR 2024 per day``)
MONEY_UNIT = re.compile(r"^(?P<cur>[A-Z]{3})(?:\s+(?P<year>\d{4}))?(?P<rest>.*)$")
UNITLESS = frozenset({"dist", "shape", "alpha", "beta", "sigma"})  # no money in these


@dataclass
class _Spec:
    unit: str
    currency: str | None
    price_year: int | None


def _spec(raw: Mapping[str, Any]) -> _Spec:
    year = raw.get("price_year")
    currency = raw.get("currency")
    return _Spec(
        unit=str(raw.get("unit") or ""),
        currency=currency if isinstance(currency, str) else None,
        price_year=year if isinstance(year, int) else None,
    )


def _number(value: float) -> str:
    """An amount with three significant figures and thousands separators."""
    if value == 0.0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{round(value, digits):,.{digits}f}"


@dataclass(frozen=True)
class MoneyView:
    """How figures in other money are shown in ``target`` money of ``year``."""

    target: str
    year: int
    conversion: Conversion
    factors: Mapping[str, float] = field(default_factory=dict)  # per converted money parameter
    sources: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # their currency, year
    text_rates: dict[str, float] = field(default_factory=dict)  # rates used in free text

    def value(self, name: str, value: Any) -> Any:
        """A parameter's value in the scenario's money (unchanged if it is not converted)."""
        factor = self.factors.get(name)
        if factor is None or isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return value * factor

    def unit(self, name: str, unit: Any) -> Any:
        """A parameter's unit with the scenario's currency and price year."""
        if name not in self.factors or not isinstance(unit, str):
            return unit
        found = MONEY_UNIT.match(unit)
        if found and found.group("cur") in tables().indices:
            return f"{self.target} {self.year}{found.group('rest')}"
        return f"{self.target} {self.year} {unit}".rstrip()

    def distribution(self, name: str, spec: Any) -> Any:
        """A PSA distribution of a parameter in the scenario's money: every parameter in the
        field's unit multiplied by the factor, ``mu`` of a lognormal moved by its log."""
        factor = self.factors.get(name)
        if factor is None or not isinstance(spec, Mapping):
            return spec
        out: dict[str, Any] = {}
        for key, v in spec.items():
            if key in UNITLESS or isinstance(v, bool) or not isinstance(v, int | float):
                out[key] = v
            elif key == "mu":
                out[key] = v + math.log(factor)
            else:
                out[key] = v * factor
        return out

    def text(self, text: Any) -> Any:
        """Free text with every amount in another currency converted and marked ``*``."""
        if not isinstance(text, str):
            return text
        return MONEY_TEXT.sub(self._convert, text)

    def text_noted(self, text: str) -> str:
        """:meth:`text`, followed by the rates used when anything was converted."""
        before = dict(self.text_rates)
        self.text_rates.clear()
        shown = self.text(text)
        used = dict(self.text_rates)
        self.text_rates.update(before)
        if not used:
            return shown
        names = tables().names
        how = "; ".join(f"from {names.get(c, c)} at {r:.6g} {self.target} each"
                        for c, r in sorted(used.items()))  # fmt: skip
        return f"{shown} (* converted {how}, {self.conversion.replace('_', ' ')} of {self.year})"

    def _convert(self, found: re.Match[str]) -> str:
        currency = SYMBOLS.get(found.group("cur"), found.group("cur"))
        if currency == self.target or currency not in tables().indices:
            return found.group(0)
        try:
            rate = tables().factor(currency, self.year, self.target, self.year, self.conversion)
        except CartsimError:
            return found.group(0)  # no rate for that year: left as found
        self.text_rates[currency] = rate
        a = _number(float(found.group("a").replace(",", "")) * rate)
        b = found.group("b")
        upper = "" if b is None else found.group("sep") + _number(float(b.replace(",", "")) * rate)
        return f"{self.target} {a}{upper}{found.group('scale')}*"

    def notes(self) -> list[str]:
        """What was converted, one sentence each (empty when nothing was)."""
        names = tables().names
        out = []
        for (currency, year), members in _group(self.sources).items():
            factor = self.factors[members[0]]
            out.append(
                f"{len(members)} money parameter(s) in {names.get(currency, currency)} of {year} "
                f"are shown in {self.target} {self.year}: value, unit and PSA distribution "
                f"multiplied by {factor:.6g} (prices of {year} moved to {self.year} with the "
                f"{names.get(currency, currency)} price index, then the "
                f"{self.conversion.replace('_', ' ')} of {self.year}; the evidence files keep "
                "the figures as found)."
            )
        for currency, rate in sorted(self.text_rates.items()):
            out.append(
                f"* amount quoted in the evidence in {names.get(currency, currency)}, converted at "
                f"{rate:.6g} {self.target} each ({self.conversion.replace('_', ' ')} of "
                f"{self.year}); its price year is the one the text states, not inflated."
            )
        return out


def _group(sources: Mapping[str, tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    out: dict[tuple[str, int], list[str]] = {}
    for name, key in sources.items():
        out.setdefault(key, []).append(name)
    return out


def money_view(raw: Mapping[str, Any]) -> MoneyView:
    """The view of a composed scenario mapping ``raw`` (``currency``, ``price_year``, ``money``)
    over its ``parameters`` (each a mapping with ``unit``, ``currency``, ``price_year``)."""
    parameters = raw.get("parameters") or {}
    target = raw.get("currency") or "EUR"
    year = raw.get("price_year") or 2024
    money = raw.get("money") or {}
    stated = money if isinstance(money, Mapping) else {}
    asked = stated.get("conversion")
    conversion: Conversion = next((c for c in CONVERSIONS if c == asked), "exchange_rate")
    specs = {}
    if isinstance(parameters, Mapping):
        specs = {str(n): _spec(p) for n, p in parameters.items() if isinstance(p, Mapping)}
    factors = parameter_factors(specs, raw)
    default_currency = stated.get("currency") or target
    default_year = stated.get("price_year") or year
    sources = {}
    for name in factors:
        found = parameter_money(specs[name], str(default_currency), int(default_year))
        assert found is not None  # a factor exists only for money
        sources[name] = found
    return MoneyView(str(target), int(year), conversion, factors, sources)
