"""Shared marshmallow fields of the API schemas: bounded text, money as decimal strings, small
free-form JSON objects, repeatable query parameters, and the query-schema base.

Every length and number stays inside what the database columns hold, so bad input is a 422
and never a database error. Money travels as a decimal string; a JSON number for money is
refused with a message saying so, because a float cannot carry cents exactly. The
currency-dependent checks (decimal places, currency) are the core's `Money.parse`, applied by
the views once the currency is known.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from ordermill.core.i18n import N_, lazy_gettext
from ordermill.core.i18n import gettext as _

MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,12})?$"  # ASCII digits only; bound: core.money
MAX_INT = 2**31 - 1
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
# A query value is trimmed of the spaces and tabs a person types around it (and around the
# commas of a list); it must hold something else. Only these two, not every character Python
# calls white space ("\x1f" is one), because the OpenAPI document states the rule as a
# pattern and a JSON Schema regex knows another set.
TRIMMED = " \t"
FILLED_PATTERN = r"^[ \t]*[^ \t]"
FILLED_LIST_PATTERN = r"^[ \t]*[^ \t,][^,]*(,[ \t]*[^ \t,][^,]*)*$"
EMPTY_VALUE = lazy_gettext("Give a value, or leave this parameter out.")
# text that must say something, stated in the document as this pattern, so a request the
# document calls valid is not refused by the core's "cannot be empty"; anchored, because
# marshmallow matches from the start while a JSON Schema pattern may match anywhere
NOT_BLANK = validate.Regexp(r"^\s*\S", error=lazy_gettext("Must contain more than spaces."))


def text(max_length: int, *, min_length: int = 0, not_blank: bool = False,
         **kwargs: Any) -> fields.String:
    """A string field limited to what its column holds (and to more than spaces when
    `not_blank`)."""
    length = validate.Length(min=min_length, max=max_length)
    return fields.String(validate=[length, NOT_BLANK] if not_blank else length, **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> fields.String:
    return text(max_length, allow_none=True, load_default=None, **kwargs)


def listed_text(max_length: int) -> fields.String:
    """One value of a `CsvList` query parameter: some text, or several separated by commas,
    none of them empty (the pattern says so in the OpenAPI document)."""
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   validate.Regexp(FILLED_LIST_PATTERN, error=EMPTY_VALUE)])


class MoneyText(fields.String):
    """Money as a decimal string ("12.50"); JSON numbers are refused with a clear message."""

    default_error_messages = {  # English source texts, translated when a value is refused
        "number": N_('Send money as a decimal string such as "12.50", not a JSON number '
                     "(a float cannot carry cents exactly)."),
        "invalid": N_('Send money as a decimal string such as "12.50".'),
        "format": N_('Not an amount: use digits with an optional decimal point, such as "12.50" '
                     "(no sign, no currency symbol, at most 10 digits before the point)."),
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"example": "12.50", "x-money": True, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str):
            if isinstance(value, (int, float)):
                raise ValidationError(_(self.error_messages["number"]))
            raise ValidationError(_(self.error_messages["invalid"]))
        validate.Regexp(MONEY_PATTERN, error=_(self.error_messages["format"]))(value)
        return value


class _MoneyPattern(validate.Regexp):
    """Documents the money pattern in OpenAPI (MoneyText checks it itself)."""


def money(*, positive: bool = False, **kwargs: Any) -> MoneyText:
    """A money field; `positive` documents that the core refuses zero (payments, refunds)."""
    if positive:
        kwargs["metadata"] = {"x-money-positive": True, **kwargs.get("metadata", {})}
    field = MoneyText(**kwargs)
    field.validators.append(_MoneyPattern(MONEY_PATTERN))
    return field


def _json_object_values(value: Any, depth: int = 0) -> None:
    if depth > 5:
        raise ValidationError(_("Nested too deeply (at most %(depth)s levels).", depth=5))
    if isinstance(value, dict):
        if len(value) > 50:
            raise ValidationError(_("At most %(num)s keys.", num=50))
        for key, item in value.items():
            if len(str(key)) > 100:
                raise ValidationError(_("Keys have at most %(num)s characters.", num=100))
            _json_object_values(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > 100:
            raise ValidationError(_("At most %(num)s items in a list.", num=100))
        for item in value:
            _json_object_values(item, depth + 1)
    elif isinstance(value, str) and len(value) > 2000:
        raise ValidationError(_("Values have at most %(num)s characters.", num=2000))


def json_object(**kwargs: Any) -> fields.Dict:
    """A small free-form JSON object (billing address, line options, accept options)."""
    return fields.Dict(keys=fields.String(), validate=_json_object_values, **kwargs)


def in_year_range(value: dt.datetime) -> None:  # by the year as written: the document's pattern
    if not EARLIEST.year <= value.year < LATEST.year:
        raise ValidationError(_("Dates must lie between 1970 and 2200."))


class QuerySchema(Schema):
    """Query parameters: a parameter that is not a list may be given once (`?q=a&q=b` is a
    422, not a silent pick of the first)."""

    @pre_load
    def _one_value_each(self, data: Any, **_kwargs: Any) -> Any:
        multi = getattr(data, "data", data)
        if hasattr(multi, "getlist"):
            for name, field in self.fields.items():
                key = field.data_key or name
                if not isinstance(field, fields.List) and len(multi.getlist(key)) > 1:
                    raise ValidationError(_("Give this parameter once."), key)
        return data


def version_field() -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "The order version you saw; a different one is a 409."})


class CsvList(fields.List):
    """A repeatable query parameter whose values may also be comma-separated:
    `?status=pending&status=active` and `?status=pending,active` mean the same.

    An empty value (`?status=`, `?status=a,,b`) is refused like the document says (items have
    a minimum length or an enum), and each value as sent is held to the items' maximum length
    before it is split, so what the document calls too long is refused, commas or not
    (`sent_max_length` allows longer comma lists where a list of short values is the point,
    such as order numbers).
    """

    def __init__(self, inner: fields.Field, *, sent_max_length: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        lengths = [check.max for check in self.inner.validators
                   if isinstance(check, validate.Length) and check.max is not None]
        self.sent_max_length = sent_max_length or (min(lengths) if lengths else None)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if self.sent_max_length is not None:
            for item in items:
                if isinstance(item, str):
                    validate.Length(max=self.sent_max_length)(item)
        split = [part.strip(TRIMMED) for item in items
                 for part in (item.split(",") if isinstance(item, str) else [item])]
        if any(part == "" for part in split):
            raise ValidationError(str(EMPTY_VALUE))
        return super()._deserialize(split, attr, data, **kwargs)


def sort_choices(names: tuple[str, ...]) -> list[str]:
    return [*names, *(f"-{name}" for name in names)]
