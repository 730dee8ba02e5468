"""Reading catalogue input as the edges send it (JSON, CLI options, CSV cells): text in,
typed values out, each refusal naming its field. One reader for every edge, so the API, the
CLI and the CSV import cannot disagree about what a valid product or promo code is."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ordermill.core.errors import InvalidInput
from ordermill.core.money import Money, check_currency

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TRUE_TEXT = ("1", "true", "yes", "y", "on")
FALSE_TEXT = ("0", "false", "no", "n", "off", "")


def refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details={"field": field})


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(data: Mapping[str, Any], field: str, limit: int, *, required: bool = False
         ) -> str | None:
    value = data.get(field)
    if blank(value):
        if required:
            raise refuse(field, "is required.")
        return None
    if not isinstance(value, str):
        raise refuse(field, f"must be text, not {value!r}.")
    cleaned = value.strip()
    if len(cleaned) > limit:
        raise refuse(field, f"is longer than {limit} characters.")
    return cleaned


def choice(data: Mapping[str, Any], field: str, allowed: tuple[str, ...], *,
           default: str | None = None) -> str | None:
    value = text(data, field, 64)
    if value is None:
        return default
    if value not in allowed:
        raise refuse(field, f"{value!r} is not one of {', '.join(allowed)}.")
    return value


def whole(data: Mapping[str, Any], field: str, *, minimum: int | None = 0,
          allow_sign: bool = False) -> int | None:
    """A whole number given as an int or as digits (CSV, CLI); floats are refused."""
    value = data.get(field)
    if blank(value):
        return None
    if isinstance(value, (bool, float)):
        raise refuse(field, f"must be a whole number, not {value!r}.")
    if isinstance(value, str):
        raw = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}" if allow_sign else r"-?[0-9]{1,12}", raw):
            raise refuse(field, f"{value!r} is not a whole number.")
        value = int(raw)
    if not isinstance(value, int):
        raise refuse(field, f"must be a whole number, not {value!r}.")
    if minimum is not None and value < minimum:
        raise refuse(field, f"must be at least {minimum}, not {value}.")
    if abs(value) > 10**9:
        raise refuse(field, f"{value} is too large.")
    return value


def flag(data: Mapping[str, Any], field: str, default: bool) -> bool:
    value = data.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_TEXT + FALSE_TEXT:
        return value.strip().lower() in TRUE_TEXT
    raise refuse(field, f"must be true or false, not {value!r}.")


def currency(data: Mapping[str, Any], field: str, *, required: bool = False) -> str | None:
    value = text(data, field, 10, required=required)
    if value is None:
        return None
    try:
        return check_currency(value)
    except InvalidInput as error:
        raise refuse(field, error.message) from None


def money(value: object, code: str, field: str) -> int:
    """Minor units from a decimal string; floats and negative amounts are refused (422)."""
    if blank(value):
        raise refuse(field, "is required.")
    return Money.parse(value, code, field=field).amount


def money_map(data: Mapping[str, Any], field: str) -> dict[str, int] | None:
    """{"USD": "12.00", ...} -> {"USD": 1200}; None when absent."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise refuse(field, 'must be an object such as {"USD": "12.00"}.')
    result: dict[str, int] = {}
    for raw_code, amount in value.items():
        code = currency({"c": raw_code}, "c")
        assert code is not None
        result[code] = money(amount, code, f"{field}.{code}")
    return result


def when(data: Mapping[str, Any], field: str) -> dt.datetime | None:
    """An ISO date or date-time; a date alone is midnight UTC, a naive time is UTC."""
    value = data.get(field)
    if blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str):
        raise refuse(field, f"must be a date such as 2026-10-31, not {value!r}.")
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise refuse(field, f"{value!r} is not a date such as 2026-10-31 or "
                            f"2026-10-31T20:00:00+00:00.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def text_list(data: Mapping[str, Any], field: str) -> list[str] | None:
    """A list of names, from a JSON list or a comma-separated text."""
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise refuse(field, "must be a list of names.")
    return list(dict.fromkeys(item.strip() for item in value if item.strip()))


def unknown_fields(data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    extra = sorted(set(data) - set(known))
    if extra:
        raise refuse(extra[0], f"is not a field; known fields are {', '.join(known)}.")
