"""Role permissions in the admin: a control the user may not use is not shown, and the
server refuses it anyway (the core checks the permission) with a 403 that changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order

Factory = Callable[..., Order]


def action_buttons(html: str) -> list[str]:
    return re.findall(r'data-testid="action-([a-z-]+)"', html)


def test_a_viewer_sees_orders_but_no_action_buttons(
        staff_login: Callable[[str], Admin], shop: None, order_factory: Factory) -> None:
    pending = order_factory([("TSHIRT", 1), ("MUG", 1)], paid=True)
    viewer = staff_login("viewer")
    listing = viewer.get("/admin/orders").get_data(as_text=True)
    assert pending.number in listing
    assert "data-bulkbar" not in listing and 'name="numbers"' not in listing
    assert "Export" not in listing and "Add new order" not in listing
    assert "Settings" not in listing and "Staff" not in listing
    page = viewer.get(f"/admin/orders/{pending.number}").get_data(as_text=True)
    assert pending.number in page and "T-shirt" in page
    assert action_buttons(page) == []
    assert "<dialog" not in page and "Add a comment" not in page
    assert viewer.get("/admin/payments").status_code == 200


FORGED: tuple[tuple[str, dict[str, str]], ...] = (
    ("accept", {}),
    ("refund", {"line_ids": "LINE"}),
    ("cancel", {"line_ids": "LINE"}),
    ("cancel-and-refund", {"restock": "on"}),
    ("fraud", {}),
    ("pending", {}),
    ("mark-paid", {}),
    ("payment", {"amount": "1.00"}),
    ("delete", {"restock": "yes"}),
    ("comment", {"text": "sneaky"}),
    ("buyer", {"name": "X", "email": "x@example.com"}),
    ("dispatch", {"date": "2024-06-01"}),
    ("deliver", {"date": "2024-06-01"}),
    ("add-lines", {"sku": "MUG", "quantity": "1"}),
    ("status", {"status": "cancelled"}),
    ("resend", {}),
)


def test_a_forged_post_from_a_viewer_gets_403_and_changes_nothing(
        staff_login: Callable[[str], Admin], shop: None, order_factory: Factory,
        unchanged: Callable[[], Callable[[], None]]) -> None:
    """Every action of the order page, posted with the viewer's own valid CSRF token."""
    order = order_factory([("TSHIRT", 1), ("MUG", 1)], paid=True)
    viewer = staff_login("viewer")
    check = unchanged()
    for path, data in FORGED:
        payload = {key: (str(order.lines[0].id) if value == "LINE" else value)
                   for key, value in data.items()}
        response = viewer.post(f"/admin/orders/{order.number}/{path}",
                               {"version": str(order.version), **payload})
        assert response.status_code == 403, (path, response.get_data(as_text=True))
        body = response.get_data(as_text=True)
        assert "Not allowed" in body and "viewer" in body, path
    check()


def test_forged_bulk_previews_new_orders_and_settings_from_a_viewer(
        staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Factory, unchanged: Callable[[], Callable[[], None]]) -> None:
    order = order_factory([("MUG", 1)], paid=True)
    viewer = staff_login("viewer")
    check = unchanged()
    for action in ("status", "export", "resend"):
        refused = viewer.post("/admin/orders/bulk", {"numbers": order.number,
                                                     "action": action, "status": "active"})
        assert refused.status_code == 403, action
    preview = viewer.post(f"/admin/orders/{order.number}/refund/preview",
                          {"line_ids": str(order.lines[0].id)})
    assert preview.status_code == 403 and preview.get_json()["ok"] is False
    assert viewer.get("/admin/orders/export.csv").status_code == 403
    assert viewer.get("/admin/payments/export.csv").status_code == 403
    assert viewer.get("/admin/orders/new").status_code == 403
    assert viewer.post("/admin/orders/new", {"name": "X", "email": "x@example.com",
                                             "payment_method": "banktransfer",
                                             "sku": "MUG"}).status_code == 403
    assert viewer.get(f"/admin/orders/{order.number}/refund").status_code == 403
    for path in ("/admin/settings/statuses", "/admin/settings/shop", "/admin/settings/staff"):
        assert viewer.get(path).status_code == 403, path
    assert viewer.post("/admin/settings/staff", {
        "email": "evil@shop.test", "name": "Evil", "role": "admin",
        "password": "12345678"}).status_code == 403
    assert viewer.post("/admin/settings/statuses", {
        "name": "hacked", "label": "Hacked", "colour": "#000000",
        "category": "pending"}).status_code == 403
    check()


def test_support_may_accept_but_not_refund(staff_login: Callable[[str], Admin],
                                           mill: Ordermill, shop: None,
                                           order_factory: Factory,
                                           unchanged: Callable[[], Callable[[], None]]) -> None:
    order = order_factory([("MUG", 1)], paid=True)
    support = staff_login("support")
    page = support.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    buttons = action_buttons(page)
    assert "accept" in buttons and "cancel" in buttons and "comment" not in buttons
    for hidden in ("refund", "cancel-and-refund", "fraud", "delete"):
        assert hidden not in buttons, hidden
    check = unchanged()
    refused = support.post(f"/admin/orders/{order.number}/refund",
                           {"version": order.version, "line_ids": str(order.lines[0].id)})
    assert refused.status_code == 403
    check()
    support.post(f"/admin/orders/{order.number}/accept", {"version": order.version})
    assert mill.orders.get(order.number).status == "active"


def test_a_manager_has_no_settings_or_staff_pages(staff_login: Callable[[str], Admin]) -> None:
    manager = staff_login("manager")
    html = manager.get("/admin/orders").get_data(as_text=True)
    assert "/admin/settings/" not in html
    assert manager.get("/admin/settings/statuses").status_code == 403
    assert manager.get("/admin/settings/staff").status_code == 403
    assert "data-bulkbar" in html
