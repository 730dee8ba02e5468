"""Issue 10, items 8 and 9: one bound for money everywhere, and ASCII digits only.

Any amount, line total or order total is at most 999,999,999,999 minor units; over it, the
API answers 422 naming the field, before the database (which used to overflow: a 500).
Arabic-Indic and full-width digits are not money (they used to record 3.00 and validate).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.core.models import Order
from ordermill.core.money import MAX_AMOUNT, Money


@pytest.fixture
def shop(make_product: Callable[..., Any], order_factory: Callable[..., Order]) -> Order:
    make_product("TSHIRT", price=1250, stock=None)
    make_product("BIG", price=MAX_AMOUNT, stock=None)
    return order_factory([("TSHIRT", 2)])


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['admin']}"}


def names(error: dict[str, Any], field: str) -> bool:
    """The refusal names `field`: the schema's {"fields": {...}} or the core's {"field"}."""
    details = error["details"]
    return details.get("field") == field or field in details.get("fields", {})


# ---------------------------------------------------------------------------- the parser


@pytest.mark.parametrize("text", ["\u0663", "\uff10\uff11", "1\u0663.00", "12.5\u0660", "\u00b2",
                                  "1_000"])
def test_only_ascii_digits_are_money(text: str) -> None:
    with pytest.raises(InvalidInput):
        Money.parse(text, "EUR")


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("9999999999.99", "EUR", MAX_AMOUNT), ("999999999999", "JPY", MAX_AMOUNT),
    ("999999999.999", "BHD", MAX_AMOUNT), ("0009999999999.990", "EUR", MAX_AMOUNT)])
def test_the_bound_itself_is_money(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency).amount == minor


@pytest.mark.parametrize(("text", "currency"), [
    ("10000000000.00", "EUR"), ("1000000000000", "JPY"), ("1000000000.000", "BHD"),
    ("12345678901234.00", "EUR"), ("9" * 400, "EUR")])
def test_over_the_bound_is_refused_naming_the_field(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Money.parse(text, currency, field="fee")
    assert refused.value.details["field"] == "fee"
    assert refused.value.message.startswith("fee: ") and "too large" in refused.value.message


# ---------------------------------------------------------------------------- API


@pytest.mark.parametrize("amount", ["\u0663", "\uff10\uff11", "3.\u0660\u0660"])
def test_api_refuses_unicode_digits(client: Any, tokens: dict[str, str], shop: Order,
                                    unchanged: Any, error_of: Callable[..., Any],
                                    amount: str) -> None:
    before = unchanged()
    response = client.post(f"/api/v1/orders/{shop.number}/payments",
                           json={"amount": amount}, headers=bearer(tokens))
    error_of(response, 422)
    before()


@pytest.mark.parametrize(("field", "body"), [
    ("amount", {"amount": "10000000000.00"}),
    ("fee", {"amount": "1.00", "fee": "10000000000.00"})])
def test_api_payment_over_the_bound_is_422_naming_the_field(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any], field: str, body: dict[str, str]) -> None:
    before = unchanged()
    response = client.post(f"/api/v1/orders/{shop.number}/payments", json=body,
                           headers=bearer(tokens))
    assert names(error_of(response, 422), field)
    before()


def test_api_amount_within_the_pattern_but_over_the_bound_is_422(
        client: Any, tokens: dict[str, str], make_product: Callable[..., Any],
        order_factory: Callable[..., Order], unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    """Bahraini dinar has 3 decimals: "9999999999.999" fits the pattern, not the bound."""
    make_product("DINAR", price=1000, currency="BHD", stock=None)
    order = order_factory([("DINAR", 1)])
    before = unchanged()
    response = client.post(f"/api/v1/orders/{order.number}/payments",
                           json={"amount": "9999999999.999"}, headers=bearer(tokens))
    error = error_of(response, 422)
    assert names(error, "amount") and "999999999.999 BHD" in error["message"]
    before()


def test_api_price_override_times_quantity_over_the_bound_is_422(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    """Each unit is within the bound; the line total is not (it used to be stored)."""
    before = unchanged()
    body = {"customer": {"email": "bea@example.com", "name": "Bea"},
            "payment_method": "banktransfer",
            "lines": [{"sku": "TSHIRT", "quantity": 2, "price_override": "9999999999.99"}]}
    response = client.post("/api/v1/orders", json=body, headers=bearer(tokens))
    error = error_of(response, 422)
    assert error["details"]["field"] == "lines.0.total"
    assert "9999999999.99 EUR" in error["message"]
    before()


def test_api_order_total_past_64_bits_is_422_not_500(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    """100 lines of 100,000 units at the highest price add up past 2**63 (a 500 before)."""
    before = unchanged()
    lines = [{"sku": "TSHIRT", "quantity": 100_000, "price_override": "9999999999.99"}
             for _ in range(100)]
    body = {"customer": {"email": "bea@example.com", "name": "Bea"},
            "payment_method": "banktransfer", "lines": lines}
    response = client.post("/api/v1/orders", json=body, headers=bearer(tokens))
    error_of(response, 422)
    before()


def test_api_added_lines_may_not_push_the_order_total_over(
        client: Any, tokens: dict[str, str], order_factory: Callable[..., Order],
        shop: Order, unchanged: Any, error_of: Callable[..., Any]) -> None:
    big = order_factory([("BIG", 1)])
    before = unchanged()
    response = client.post(f"/api/v1/orders/{big.number}/lines",
                           json={"lines": [{"sku": "TSHIRT", "quantity": 1}]},
                           headers=bearer(tokens))
    error = error_of(response, 422)
    assert error["details"]["field"] == "total"
    before()


def test_api_the_bound_itself_is_accepted(client: Any, tokens: dict[str, str],
                                          shop: Order) -> None:
    body = {"customer": {"email": "bea@example.com", "name": "Bea"},
            "payment_method": "banktransfer", "lines": [{"sku": "BIG", "quantity": 1}]}
    response = client.post("/api/v1/orders", json=body, headers=bearer(tokens))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["order"]["total"] == "9999999999.99"


def test_api_refund_amount_over_the_bound_is_422(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    before = unchanged()
    response = client.post(f"/api/v1/orders/{shop.number}/refund",
                           json={"amount": "99999999999"}, headers=bearer(tokens))
    assert names(error_of(response, 422), "amount")
    before()


# ---------------------------------------------------------------------------- CLI


def test_cli_refund_over_the_bound_is_one_line_exit_1(mill: Ordermill, shop: Order,
                                                      unchanged: Any) -> None:
    before = unchanged()
    result = CliRunner().invoke(
        main, ["order", "refund", shop.number, "--amount", "12345678901234.00"],
        obj={"mill": mill})
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--amount" in lines[0] and "too large" in lines[0]
    before()


def test_cli_refund_refuses_unicode_digits(mill: Ordermill, shop: Order) -> None:
    result = CliRunner().invoke(main, ["order", "refund", shop.number, "--amount", "\u0663"],
                                obj={"mill": mill})
    assert result.exit_code == 1 and "--amount" in result.output
    assert not mill.orders.get(shop.number).payments
