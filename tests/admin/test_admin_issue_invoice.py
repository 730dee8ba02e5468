"""Issue 15 in the admin: the "Issue invoice" button on an order placed without its invoice
(core action, history event, permission) and the Invoices card afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order

Factory = Callable[..., Order]
INV1 = f"INV-{dt.datetime.now(dt.UTC).year}-000001"


def test_the_order_page_issues_the_invoice(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Factory, unchanged: Callable[[], Callable[[], None]]) -> None:
    order = order_factory([("TSHIRT", 1)], generate_invoice=False)
    page = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert 'data-testid="action-issue-invoice"' in page and "Issue invoice" in page

    viewer = staff_login("viewer")
    assert "action-issue-invoice" not in viewer.get(
        f"/admin/orders/{order.number}").get_data(as_text=True)
    check = unchanged()
    refused = viewer.post(f"/admin/orders/{order.number}/issue-invoice",
                          {"version": str(order.version)})
    assert refused.status_code == 403
    check()

    done = admin.post(f"/admin/orders/{order.number}/issue-invoice",
                      {"version": str(order.version)})
    assert done.status_code == 303
    shown = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert INV1 in shown and "Issued" in shown
    assert "action-issue-invoice" not in shown  # nothing left to issue
    [event] = [e for e in mill.orders.history(order.number) if e.type == "invoice_issued"]
    assert INV1 in event.message and event.actor.startswith("user:")
