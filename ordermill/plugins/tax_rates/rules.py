"""The tax_rates configuration and the rules that read it (no database, no hooks here).

Configuration (ORDERMILL_PLUGIN_CONFIG, or the admin's "Tax rates" settings tab over it):

    {"tax_rates": {
        "home_country": "FR",            # where the shop is registered for VAT
        "prices_include_tax": false,     # prices entered net (false) or gross (true)
        "reverse_charge": true,          # B2B in another EU country with a valid VAT number
        "rates": {"FR": {"standard": "20", "reduced": "5.5"},
                  "ID": {"standard": "11"}}}}

Rates are percentages per ISO 3166-1 alpha-2 country and product tax class (standard,
reduced, zero, exempt). A class a country does not list pays its standard rate; `zero` pays
0 % (shown), `exempt` no tax at all. The destination is the buyer's billing country; an order
without one is taxed as at home; a country with no rates configured pays no tax (export).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from stdnum.eu import vat as eu_vat

from ordermill.api import ConfigurationError, InvalidInput
from ordermill.plugins.tax_rates.i18n import _

TAX_CLASSES = ("standard", "reduced", "zero", "exempt")
# the EU member states, by their ISO codes (Greece's VAT prefix is EL, ISO GR)
EU_COUNTRIES = frozenset({"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE",
                          "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT",
                          "RO", "SK", "SI", "ES", "SE"})
REVERSE_CHARGE_LABEL = "VAT reverse charge (article 196, Directive 2006/112/EC)"
REVERSE_CHARGE_DISCOUNT = "VAT not charged (reverse charge)"
TAX_LABEL = "VAT {rate} %"
FEE_TAX_LABEL = "VAT {rate} % on {fee}"


def _percent(value: Any, where: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ConfigurationError(f"tax_rates: {where} must be a percentage, not {value!r}."
                                 ) from None
    if not rate.is_finite() or not 0 <= rate < 100:
        raise ConfigurationError(f"tax_rates: {where} must be from 0 to 100, not {value!r}.")
    return rate


@attrs.frozen
class TaxConfig:
    home_country: str | None = None
    prices_include_tax: bool = False
    reverse_charge: bool = True
    rates: Mapping[str, Mapping[str, Decimal]] = attrs.field(factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TaxConfig:
        raw_rates = data.get("rates") or {}
        if isinstance(raw_rates, str):
            try:
                raw_rates = json.loads(raw_rates) if raw_rates.strip() else {}
            except ValueError:
                raise ConfigurationError("tax_rates: rates must be JSON such as "
                                         '{"FR": {"standard": "20"}}.') from None
        if not isinstance(raw_rates, Mapping):
            raise ConfigurationError("tax_rates: rates must map countries to classes.")
        rates: dict[str, dict[str, Decimal]] = {}
        for country, classes in raw_rates.items():
            code = str(country).strip().upper()
            if not isinstance(classes, Mapping):
                raise ConfigurationError(f"tax_rates: rates of {code} must map tax classes "
                                         f"to percentages.")
            unknown = set(classes) - set(TAX_CLASSES)
            if unknown:
                raise ConfigurationError(f"tax_rates: unknown tax class "
                                         f"{', '.join(sorted(unknown))} in {code}; use "
                                         f"{', '.join(TAX_CLASSES)}.")
            rates[code] = {name: _percent(value, f"the {name} rate of {code}")
                           for name, value in classes.items()}
        home = str(data.get("home_country") or "").strip().upper() or None
        return cls(home_country=home,
                   prices_include_tax=_flag(data.get("prices_include_tax"), False),
                   reverse_charge=_flag(data.get("reverse_charge"), True), rates=rates)

    def destination(self, billing_country: str | None) -> str | None:
        return (billing_country or "").upper() or self.home_country

    def rate(self, country: str | None, tax_class: str) -> Decimal | None:
        """The rate in percent, or None for no tax (exempt, or a country not configured)."""
        if tax_class == "exempt" or not country or country not in self.rates:
            return None
        classes = self.rates[country]
        if tax_class == "zero":
            return classes.get("zero", Decimal(0))
        if tax_class in classes:
            return classes[tax_class]
        return classes.get("standard")


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def reverse_charge_applies(config: TaxConfig, country: str | None, vat_id: str | None) -> bool:
    """True for a valid EU VAT number of another EU country than the shop's; an invalid
    number is refused (InvalidInput) so the buyer can correct it."""
    if not vat_id:
        return False
    if not eu_vat.is_valid(vat_id):
        raise InvalidInput(_("The VAT number %(vat_id)s is not valid: check its country prefix "
                             "and digits, or leave it empty to buy as a consumer.",
                             vat_id=vat_id), details={"field": "vat_id"})
    vat_country = vat_id[:2].upper().replace("EL", "GR")
    if not config.reverse_charge or country not in EU_COUNTRIES:
        return False
    if vat_country != country:
        raise InvalidInput(_("The VAT number %(vat_id)s is from %(vat_country)s, but the "
                             "billing country is %(country)s: they must match for a "
                             "reverse-charge sale.", vat_id=vat_id, vat_country=vat_country,
                             country=country),
                           details={"field": "vat_id"})
    return country != config.home_country


def tax_on(amount: int, rate: Decimal, included: bool) -> Decimal:
    """The exact tax (fractions of a minor unit; the core rounds) on a net amount, or inside
    a gross one."""
    if included:
        return Decimal(amount) * rate / (100 + rate)
    return Decimal(amount) * rate / 100
