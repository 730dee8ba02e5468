"""Money as integer minor units plus an ISO 4217 currency.

Floats never enter: amounts come in as ints (minor units) or as decimal strings ("12.50"),
and babel supplies each currency's exponent (JPY has 0, EUR 2, BHD 3) so no hand table drifts.

One bound for money everywhere: any amount, line total or order total is at most MAX_AMOUNT
minor units (999,999,999,999: 9,999,999,999.99 EUR), far inside the 64-bit columns, so an
absurd amount is a clear 422 naming the field instead of a database overflow. Digits are
ASCII only: Arabic-Indic or full-width digits are not amounts, whatever `int()` accepts.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache, lru_cache

import attrs
from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision

from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _

_DECIMAL_TEXT = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
MAX_AMOUNT = 999_999_999_999
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(Locale("en").currencies)


def check_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code, or raise InvalidInput for an unknown one."""
    if not isinstance(code, str):
        raise InvalidInput(_("Currency must be a three-letter code, not %(code)s.",
                              code=repr(code)))
    upper = code.strip().upper()
    if not _CURRENCY_CODE.match(upper) or upper not in _known_currencies():
        raise InvalidInput(_("Unknown currency %(code)s: use an ISO 4217 code such as EUR or "
                              "USD.", code=repr(code)))
    return upper


def check_bound(amount: int, currency: str, field: str | None = None) -> int:
    """`amount` if it is within MAX_AMOUNT either way; InvalidInput (naming `field`) if not."""
    if abs(amount) > MAX_AMOUNT:
        shown = Money(abs(amount), currency).to_decimal_string()
        raise InvalidInput(too_large(shown, currency, field),
                           details={"field": field} if field else {})
    return amount


def too_large(shown: str, currency: str, field: str | None = None) -> str:
    limit = Money(MAX_AMOUNT, currency).to_decimal_string()
    prefix = f"{field}: " if field else ""
    return prefix + _("%(amount)s %(currency)s is too large; amounts and totals are at most "
                      "%(limit)s %(currency)s.", amount=shown, currency=currency, limit=limit)


def exponent(currency: str) -> int:
    """Number of minor-unit digits of the currency (2 for EUR, 0 for JPY)."""
    if isinstance(currency, str):
        return _exponent(currency)
    return get_currency_precision(check_currency(currency))  # refused with InvalidInput


@cache
def _exponent(currency: str) -> int:
    """exponent() remembered per code (an unknown one raises and is not remembered): every
    amount shown asks it."""
    return get_currency_precision(check_currency(currency))


@attrs.frozen(order=False)
class Money:
    """An amount in minor units (cents) of one currency. Arithmetic refuses mixed currencies."""

    amount: int = attrs.field()
    currency: str = attrs.field(converter=check_currency)

    @amount.validator
    def _amount_is_int(self, _attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(_("Money amounts are integer minor units, not %(value)s.",
                                 value=repr(value)))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: object, currency: str, *, allow_negative: bool = False,
              field: str | None = None) -> Money:
        """Parse a decimal string such as "12.50" into minor units.

        Rejects floats (they cannot carry money exactly), non-ASCII digits, negative amounts
        unless allowed, more decimal places than the currency has and amounts over
        MAX_AMOUNT, each with a message saying why; with `field`, the message and details
        name it (the API, admin and CLI say which amount was refused).
        """
        try:
            return cls._parse(text, currency, allow_negative)
        except InvalidInput as error:
            if field is None:
                raise
            message = error.message if error.message.startswith(f"{field}:") \
                else f"{field}: {error.message}"
            raise InvalidInput(message, details={**error.details, "field": field}) from None

    @classmethod
    def _parse(cls, text: object, currency: str, allow_negative: bool) -> Money:
        code = check_currency(currency)
        if isinstance(text, float):
            raise InvalidInput(
                _("Amount %(text)s is a float; send money as a decimal string such as "
                  "\"12.50\".", text=repr(text)))
        if isinstance(text, bool) or not isinstance(text, (str, int, Decimal)):
            raise InvalidInput(_("Amount must be a decimal string such as \"12.50\", not "
                                 "%(text)s.", text=repr(text)))
        raw = str(text).strip()
        negative = raw.startswith("-")
        if negative:
            if not allow_negative:
                raise InvalidInput(_("Amount %(text)s is negative; amounts must be zero or "
                                     "more.", text=repr(raw)))
            raw = raw[1:]
        match = _DECIMAL_TEXT.match(raw)
        if not match:
            raise InvalidInput(_("Amount %(text)s is not a decimal number such as \"12.50\".",
                                 text=repr(text)))
        digits = exponent(code)
        frac = match.group("frac") or ""
        if len(frac.rstrip("0")) > digits:
            raise InvalidInput(
                _("Amount %(text)s has more than %(digits)s decimal places, too precise for "
                  "%(currency)s.", text=repr(text), digits=digits, currency=code))
        frac = frac[:digits].ljust(digits, "0")
        if len(match.group("int").lstrip("0")) > len(str(MAX_AMOUNT)):
            raise InvalidInput(too_large(raw, code))  # before int() turns a huge text to a number
        minor = int(match.group("int")) * 10**digits + (int(frac) if frac else 0)
        check_bound(minor, code)
        return cls(-minor if negative else minor, code)

    def to_decimal_string(self) -> str:
        """The API's text form: "12.50" for 1250 EUR, "1200" for 1200 JPY."""
        digits = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**digits)
        return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"

    def format(self, locale: str = "en") -> str:
        """Human text for e-mails and the admin, e.g. "€12.50"."""
        return _formatted(self.amount, self.currency, locale)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidInput(_("Cannot combine %(one)s with %(other)s.", one=self.currency,
                                 other=other.currency))
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


def percent_of(amount: int, basis_points: int) -> int:
    """`basis_points`/10000 of `amount`, rounded half up to a whole minor unit (integers only)."""
    return (amount * basis_points + 5000) // 10000


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` over `weights` proportionally so the parts add up exactly to `total`.

    Used to spread an order discount over its lines: the largest remainders get the spare cents.
    """
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0 for _ in weights]
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(
        range(len(weights)), key=lambda i: (total * weights[i]) % weight_sum, reverse=True
    )
    for index in remainders[: total - sum(shares)]:
        shares[index] += 1
    return shares


@lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    """`Money.format`, remembered per amount, currency and locale: babel's text depends on
    nothing else, costs about 20 us to make, and a shop's amounts repeat (prices, totals);
    every placement and action message formats a few."""
    return format_currency(Decimal(Money(amount, currency).to_decimal_string()), currency,
                           locale=locale)
