"""Money: integer minor units, decimal-string parsing with clear refusals, exact allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordermill.core.errors import InvalidInput
from ordermill.core.money import Money, allocate, check_currency, exponent, percent_of


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("0", "EUR", 0),
        ("0.01", "EUR", 1),
        (" 7.25 ", "usd", 725),
        ("12.500", "EUR", 1250),  # trailing zeros are not extra precision
        ("1200", "JPY", 1200),
        ("1200.0", "JPY", 1200),
        ("1.234", "BHD", 1234),
        (Decimal("3.10"), "EUR", 310),
        (5, "EUR", 500),
    ],
)
def test_parse_decimal_text(text: object, currency: str, minor: int) -> None:
    money = Money.parse(text, currency)
    assert money.amount == minor
    assert money.currency == currency.upper()


def test_float_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match=r"float.*decimal string"):
        Money.parse(12.5, "EUR")


def test_negative_is_refused_unless_allowed() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        Money.parse("-1.00", "EUR")
    assert Money.parse("-1.05", "EUR", allow_negative=True).amount == -105


@pytest.mark.parametrize(("text", "currency"), [("12.505", "EUR"), ("1200.5", "JPY"),
                                                  ("0.0001", "BHD")])
def test_over_precise_is_refused_naming_the_currency(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput, match=rf"more than \d decimal places, too precise for "
                                           rf"{currency}"):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", "abc", "1,50", "12.", ".5", "+3", "1e3", "1 000", True,
                                  None, [1]])
def test_garbage_is_refused(text: object) -> None:
    with pytest.raises(InvalidInput, match="decimal"):
        Money.parse(text, "EUR")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown currency 'EURO'"):
        Money.parse("1", "EURO")
    with pytest.raises(InvalidInput, match="Unknown currency"):
        check_currency("XYZ")
    assert check_currency(" eur ") == "EUR"


def test_exponents_come_from_babel() -> None:
    assert exponent("EUR") == 2
    assert exponent("JPY") == 0
    assert exponent("BHD") == 3


def test_text_forms() -> None:
    assert Money(1250, "EUR").to_decimal_string() == "12.50"
    assert Money(5, "EUR").to_decimal_string() == "0.05"
    assert Money(-5, "EUR").to_decimal_string() == "-0.05"
    assert Money(1200, "JPY").to_decimal_string() == "1200"
    assert Money(1234, "BHD").to_decimal_string() == "1.234"
    assert str(Money(1250, "EUR")) == "12.50 EUR"
    assert Money(1250, "EUR").format() == "€12.50"
    assert Money(1200, "JPY").format() == "¥1,200"
    for minor in (0, 1, 99, 100, 12345):
        assert Money.parse(Money(minor, "EUR").to_decimal_string(), "EUR").amount == minor


def test_amounts_are_integers_only() -> None:
    with pytest.raises(InvalidInput):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Money(True, "EUR")  # type: ignore[arg-type]


def test_arithmetic_refuses_mixed_currencies() -> None:
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    assert Money(100, "EUR") - Money(150, "EUR") == Money(-50, "EUR")
    assert Money(250, "EUR") * 3 == Money(750, "EUR")
    assert 3 * Money(250, "EUR") == Money(750, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR")
    assert not Money(0, "EUR")
    with pytest.raises(InvalidInput, match="Cannot combine EUR with USD"):
        Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(InvalidInput):
        _ = Money(1, "EUR") < Money(2, "USD")
    with pytest.raises(TypeError):
        Money(100, "EUR") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize(
    ("total", "weights"),
    [(100, [1, 1, 1]), (1, [1, 1, 1]), (1000, [333, 333, 334]), (7, [0, 5, 0]),
     (99999, [1, 2, 3, 4, 5, 6, 7]), (0, [10, 20]), (10, [3])],
)
def test_allocation_adds_up_exactly(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)
    for share, weight in zip(shares, weights, strict=True):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(share - exact) < 1  # never more than one cent off the exact share
        if weight == 0:
            assert share == 0


def test_allocation_over_nothing() -> None:
    assert allocate(100, [0, 0]) == [0, 0]
    assert allocate(0, []) == []


def test_percent_rounds_half_up() -> None:
    assert percent_of(3499, 1000) == 350  # 349.9
    assert percent_of(5, 1000) == 1  # 0.5 rounds up
    assert percent_of(4, 1000) == 0  # 0.4 rounds down
    assert percent_of(2500, 10000) == 2500
