"""Issue 10 item 14 in the admin: a "Revoke customer link" button on the order page that ends
every link sent so far (the core action, its event and its permission), on both databases."""

from __future__ import annotations

from collections.abc import Callable

from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.order_links import REVOKE_EVENT, order_link_token

Factory = Callable[..., Order]


def test_the_order_page_revokes_customer_links(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Factory, unchanged: Callable[[], Callable[[], None]]) -> None:
    order = order_factory([("TSHIRT", 1)], paid=True)
    link = f"/my-order/{order_link_token(mill, order.number)}"
    page = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert 'data-testid="action-revoke-link"' in page and "Revoke customer link" in page

    viewer = staff_login("viewer")
    assert 'action-revoke-link' not in viewer.get(
        f"/admin/orders/{order.number}").get_data(as_text=True)
    check = unchanged()
    refused = viewer.post(f"/admin/orders/{order.number}/revoke-link",
                          {"version": str(order.version)})
    assert refused.status_code == 403
    check()
    assert admin.client.get(link).status_code == 200

    done = admin.post(f"/admin/orders/{order.number}/revoke-link",
                      {"version": str(order.version)})
    assert done.status_code == 303
    shown = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert "Customer order links revoked" in shown
    assert admin.client.get(link).status_code == 404
    fresh = f"/my-order/{order_link_token(mill, order.number)}"
    assert admin.client.get(fresh).status_code == 200
    assert [e.type for e in mill.orders.history(order.number)].count(REVOKE_EVENT) == 1
