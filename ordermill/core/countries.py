"""Buyer fields tax depends on: the billing country (ISO 3166-1 alpha-2) and a VAT number.

The country list is Babel's territories (already a dependency) without its regions and
private-use codes, so no list is kept by hand here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from ordermill.core.errors import InvalidInput

# Babel territories that are not ISO 3166-1 countries (regions, unions, private use)
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN",
                            "XA", "XB", "ZZ"})
_VAT_ID = re.compile(r"^[A-Z0-9+*]{2,20}$")
BAD_COUNTRY = ("The billing country must be a two-letter ISO 3166-1 code such as FR or ID, "
               "not {value!r}.")
BAD_VAT_ID = "A VAT number has 2 to 20 letters and digits, not {value!r}."


@cache
def country_codes() -> frozenset[str]:
    import babel

    return frozenset(code for code in babel.Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def checked_billing_address(address: Mapping[str, Any]) -> dict[str, Any]:
    """The address with its `country` as an upper-case alpha-2 code; an unknown one is
    refused (absent or empty stays as it is)."""
    checked = dict(address)
    value = checked.get("country")
    if value is None or (isinstance(value, str) and not value.strip()):
        return checked
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in country_codes():
        raise InvalidInput(BAD_COUNTRY.format(value=value),
                           details={"field": "billing_address.country"})
    checked["country"] = code
    return checked


def vat_id(value: str | None) -> str | None:
    """A VAT number without spaces, dots or dashes, upper case; its check digits are the tax
    plugin's business (tax_rates uses python-stdnum)."""
    if value is None:
        return None
    text = re.sub(r"[\s.\-/]", "", str(value)).upper()
    if not text:
        return None
    if not _VAT_ID.match(text):
        raise InvalidInput(BAD_VAT_ID.format(value=value), details={"field": "vat_id"})
    return text
