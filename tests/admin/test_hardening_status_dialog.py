"""Issue 10 item 3 in the admin: the status dialog and the bulk form take the permission of
the named action a change of category stands in for, and do its bookkeeping.

A support user (edit_orders, no manage_fraud) is not offered Fraud in the status dialog, and a
forged POST is a 403 that changes nothing; an admin's status change to fraud cancels the open
invoices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order


def status_options(html: str) -> list[str]:
    start = html.index('<select name="status" required>')
    block = html[start:html.index("</select>", start)]
    return [part.split('"', 1)[0] for part in block.split('<option value="')[2:]]


def test_support_cannot_set_fraud_through_the_status_dialog(
        staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Callable[..., Order],
        unchanged: Callable[[], Callable[[], None]]) -> None:
    order = order_factory([("TSHIRT", 1)])
    support = staff_login("support")
    page = support.get(f"/admin/orders/{order.number}/status")
    assert page.status_code == 200
    offered = status_options(page.get_data(as_text=True))
    assert "fraud" not in offered and "cancelled" in offered
    check = unchanged()
    for extra in ({}, {"preview": "1"}):
        refused = support.post(f"/admin/orders/{order.number}/status", {
            "version": order.version, "status": "fraud", **extra})
        assert refused.status_code == 403
    preview = support.post(f"/admin/orders/{order.number}/status/preview",
                           {"version": order.version, "status": "fraud"})
    assert preview.status_code == 403 and preview.get_json()["ok"] is False
    check()
    assert mill.orders.get(order.number).status == "pending"


def test_admin_status_dialog_to_fraud_cancels_the_open_invoices(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Callable[..., Order]
        ) -> None:
    order = order_factory([("TSHIRT", 1)])
    page = admin.get(f"/admin/orders/{order.number}/status").get_data(as_text=True)
    assert "fraud" in status_options(page)
    done = admin.post(f"/admin/orders/{order.number}/status",
                      {"version": order.version, "status": "fraud"})
    assert done.status_code == 303
    stored = mill.orders.get(order.number)
    assert stored.status == "fraud"
    assert [invoice.status for invoice in stored.invoices] == ["cancelled"]


def test_bulk_form_applies_the_bookkeeping(admin: Admin, mill: Ordermill, shop: None,
                                          order_factory: Callable[..., Order]) -> None:
    order = order_factory([("TSHIRT", 1)])
    admin.get("/admin/orders")
    done = admin.post("/admin/orders/bulk", {"numbers": [order.number], "action": "status",
                                             "status": "fraud"})
    assert done.status_code == 303
    assert [invoice.status for invoice in mill.orders.get(order.number).invoices] == [
        "cancelled"]
    back: Any = admin.post("/admin/orders/bulk", {"numbers": [order.number],
                                                  "action": "status", "status": "pending"})
    assert back.status_code == 303
    assert [invoice.status for invoice in mill.orders.get(order.number).invoices] == [
        "unpaid"]
