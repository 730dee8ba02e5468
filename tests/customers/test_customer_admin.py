"""The customer pages of the admin (without a browser): list, page, edit, note, merge,
export, erase, permissions, and Add New Order's customer search box without JavaScript."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer


def _ids(mill: Ordermill) -> dict[str, int]:
    with mill.read_session() as session:
        return dict(session.execute(select(Customer.email, Customer.id)).all())


def _shop(make_product: Any, order_factory: Any) -> None:
    make_product("TSHIRT", price=1000, stock=100)
    order_factory([("TSHIRT", 1)], email="hal@example.com", name="Hal Hart", paid=True)
    order_factory([("TSHIRT", 2)], email="ivy@example.com", name="Ivy Ives", paid=True)


def test_admin_customer_pages_and_actions(mill: Ordermill, admin_login: Any,
                                          make_product: Any, order_factory: Any) -> None:
    _shop(make_product, order_factory)
    ids = _ids(mill)
    admin = admin_login("admin")
    listing = admin.get("/admin/customers?q=hart").get_data(as_text=True)
    assert "Hal Hart" in listing and "Ivy Ives" not in listing
    page = admin.get(f"/admin/customers/{ids['hal@example.com']}").get_data(as_text=True)
    for part in ("hal@example.com", "New order for this customer", "Merge", "Erase",
                 "Export data", "Staff notes"):
        assert part in page
    hal = ids["hal@example.com"]
    saved = admin.post(f"/admin/customers/{hal}/edit", {
        "name": "Hal Hart", "email": "hal@example.com", "phone": "+1 555 0100",
        "company": "", "line1": "1 Main St", "city": "Springfield", "postcode": "",
        "country": "US", "language": "en"})
    assert saved.status_code == 303
    assert admin.post(f"/admin/customers/{hal}/notes", {"text": "Call after 5"}
                      ).status_code == 303
    page = admin.get(f"/admin/customers/{hal}").get_data(as_text=True)
    assert "+1 555 0100" in page and "Call after 5" in page and "Springfield" in page
    refused = admin.post(f"/admin/customers/{hal}/merge", {"merge_id": str(hal)})
    assert refused.status_code == 422 and "itself" in refused.get_data(as_text=True)
    assert admin.post(f"/admin/customers/{hal}/merge",
                      {"merge_id": str(ids["ivy@example.com"])}).status_code == 303
    assert set(_ids(mill)) == {"hal@example.com"}
    exported = admin.post(f"/admin/customers/{hal}/export")
    assert exported.mimetype == "application/json"
    assert len(json.loads(exported.get_data())["orders"]) == 2
    unconfirmed = admin.post(f"/admin/customers/{hal}/erase", {"confirm": "yes"})
    assert unconfirmed.status_code == 422 and "hal@example.com" in _ids(mill)
    assert admin.post(f"/admin/customers/{hal}/erase", {"confirm": "ERASE"}).status_code == 303
    page = admin.get(f"/admin/customers/{hal}").get_data(as_text=True)
    assert "Hal" not in page and "retention" in page.lower()


def test_admin_customer_permissions(mill: Ordermill, admin_login: Any, make_product: Any,
                                    order_factory: Any) -> None:
    _shop(make_product, order_factory)
    hal = _ids(mill)["hal@example.com"]
    viewer = admin_login("viewer")
    page = viewer.get(f"/admin/customers/{hal}").get_data(as_text=True)
    assert "hal@example.com" in page
    assert "data-testid=\"customer-erase\"" not in page and "Merge…" not in page
    manager = admin_login("manager")
    assert "customer-erase" not in manager.get(f"/admin/customers/{hal}").get_data(
        as_text=True)
    assert manager.post(f"/admin/customers/{hal}/erase", {"confirm": "ERASE"}
                        ).status_code == 403
    assert manager.post(f"/admin/customers/{hal}/edit", {"name": "X", "email": "x@y.z"}
                        ).status_code == 403
    assert _ids(mill)["hal@example.com"] == hal
    assert admin_login("support").get("/admin/customers/999999").status_code == 404


def test_add_new_order_finds_customers_without_javascript(
        mill: Ordermill, admin_login: Any, make_product: Any, order_factory: Any) -> None:
    _shop(make_product, order_factory)
    ids = _ids(mill)
    admin = admin_login("admin")
    page = admin.get(f"/admin/orders/new?customer={ids['ivy@example.com']}").get_data(
        as_text=True)
    assert "Ivy Ives · ivy@example.com" in page and 'name="customer_id"' in page
    assert "<select name=\"customer_id\"" not in page and "Hal Hart" not in page
    found = admin.post("/admin/orders/new", {"customer_q": "hart", "find_customer": "1",
                                              "sku": "TSHIRT", "quantity": "1"})
    assert found.status_code == 200
    text = found.get_data(as_text=True)
    assert f'value="{ids["hal@example.com"]}"' in text and "Ivy Ives" not in text
    looked_up = admin.get("/admin/customers/lookup?q=ive").get_json()
    assert [c["email"] for c in looked_up] == ["ivy@example.com"]
