"""Issue 10, items 8 and 9 in the admin: money fields have the one bound and ASCII digits.

A payment of 12,345,678,901,234.00 EUR used to be recorded; now the form answers with an
error naming the field, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order


@pytest.mark.parametrize(("field", "form"), [
    ("Amount", {"amount": "12345678901234.00"}),
    ("Amount", {"amount": "10000000000"}),
    ("Amount", {"amount": "\u0663"}),
    ("Amount", {"amount": "\uff10\uff11"}),
    ("Fee", {"amount": "1.00", "fee": "10000000000.00"}),
])
def test_admin_payment_over_the_bound_or_not_ascii_is_a_form_error(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Callable[..., Order],
        unchanged: Any, field: str, form: dict[str, str]) -> None:
    order = order_factory([("TSHIRT", 1)], payment_method="cheque")
    admin.get(f"/admin/orders/{order.number}/payment")
    before = unchanged()
    response = admin.post(f"/admin/orders/{order.number}/payment",
                          {"version": order.version, "gateway": "cheque", "_from": "page",
                           **form})
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    assert f"{field}:" in page
    before()
    assert not mill.orders.get(order.number).payments


def test_admin_added_line_over_the_bound_is_refused(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Callable[..., Order],
        unchanged: Any) -> None:
    order = order_factory([("TSHIRT", 1)])
    admin.get(f"/admin/orders/{order.number}")
    before = unchanged()
    response = admin.post(f"/admin/orders/{order.number}/add-lines", {
        "version": order.version, "_from": "page", "sku": "MUG", "quantity": "100000",
        "price_override": "9999999999.99"})
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    assert "too large" in response.get_data(as_text=True)
    before()
