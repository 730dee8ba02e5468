"""Settings pages: custom statuses (read by Ordermill.statuses), bank details (the bank-transfer
plugin's tab) and fraud threshold, staff users and roles."""

from __future__ import annotations

from collections.abc import Callable

from adminkit import Admin
from sqlalchemy import select

from ordermill.core.app import CUSTOM_STATUSES_SETTING, Ordermill
from ordermill.core.models import Order, Setting, User
from ordermill.core.staff import authenticate

Factory = Callable[..., Order]


def setting(mill: Ordermill, key: str) -> dict[str, object] | None:
    with mill.read_session() as session:
        row = session.get(Setting, key)
        return dict(row.value) if row is not None else None


def test_add_a_custom_status_and_move_an_order_to_it(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory) -> None:
    page = admin.get("/admin/settings/statuses").get_data(as_text=True)
    for name in ("pending", "active", "completed", "fraud", "cancelled", "refunded"):
        assert f">{name}<" in page
    response = admin.post("/admin/settings/statuses", {
        "name": "awaiting_stock", "label": "Awaiting stock", "colour": "#0D9488",
        "category": "pending", "description": "Waiting for the supplier.",
        "transitions": ["active", "cancelled"], "reachable_from": ["pending"]})
    assert response.status_code == 303
    stored = setting(mill, CUSTOM_STATUSES_SETTING)
    assert stored == {"statuses": [{
        "name": "awaiting_stock", "label": "Awaiting stock", "colour": "#0d9488",
        "category": "pending", "description": "Waiting for the supplier.",
        "transitions": ["active", "cancelled"], "reachable_from": ["pending"]}]}
    assert mill.statuses.get("awaiting_stock").colour == "#0d9488"
    assert mill.statuses.can_move("pending", "awaiting_stock")

    order = order_factory([("MUG", 1)])
    admin.post(f"/admin/orders/{order.number}/status",
               {"version": order.version, "status": "awaiting_stock"})
    assert mill.orders.get(order.number).status == "awaiting_stock"
    listing = admin.get("/admin/orders?status=awaiting_stock").get_data(as_text=True)
    assert order.number in listing and "--badge: #0d9488" in listing

    busy = admin.post("/admin/settings/statuses", {"action": "delete",
                                                   "name": "awaiting_stock"})
    assert busy.status_code == 422
    assert "1 order is awaiting_stock" in busy.get_data(as_text=True)


def test_a_status_that_would_break_the_registry_is_refused(admin: Admin,
                                                           mill: Ordermill) -> None:
    taken = admin.post("/admin/settings/statuses", {
        "name": "pending", "label": "Mine", "colour": "#000000", "category": "pending"})
    assert taken.status_code == 422
    assert "cannot be changed here" in taken.get_data(as_text=True)
    bad_name = admin.post("/admin/settings/statuses", {
        "name": "Has Spaces", "label": "X", "colour": "#000000", "category": "pending"})
    assert bad_name.status_code == 422
    assert setting(mill, CUSTOM_STATUSES_SETTING) is None


def test_edit_and_remove_a_custom_status(admin: Admin, mill: Ordermill) -> None:
    admin.post("/admin/settings/statuses", {"name": "on_hold", "label": "On hold",
                                            "colour": "#123456", "category": "active"})
    edit = admin.get("/admin/settings/statuses?edit=on_hold").get_data(as_text=True)
    assert 'value="On hold"' in edit and "readonly" in edit
    admin.post("/admin/settings/statuses", {"name": "on_hold", "label": "Paused",
                                            "colour": "#654321", "category": "active",
                                            "reachable_from": ["active"]})
    assert mill.statuses.get("on_hold").label == "Paused"
    assert mill.statuses.can_move("active", "on_hold")
    done = admin.post("/admin/settings/statuses", {"action": "delete", "name": "on_hold"})
    assert done.status_code == 303
    assert "on_hold" not in mill.statuses
    assert setting(mill, CUSTOM_STATUSES_SETTING) == {"statuses": []}


def test_bank_details_and_fraud_threshold(admin: Admin, mill: Ordermill) -> None:
    # bank details are the bank-transfer plugin's settings tab; the threshold stays the shop's
    bank_page = "/admin/settings/plugins/bank_transfer"
    page = admin.get(bank_page).get_data(as_text=True)
    assert "IBAN" in page
    assert "In effect now: <strong>75" in admin.get("/admin/settings/shop").get_data(as_text=True)
    bad = admin.post(bank_page, {"iban": "DE00 1234"})
    assert bad.status_code == 422 and "fails its check digits" in bad.get_data(as_text=True)
    assert setting(mill, "bank_details") is None
    out_of_range = admin.post("/admin/settings/shop", {"fraud_threshold": "150"})
    assert out_of_range.status_code == 422
    saved = admin.post(bank_page, {
        "account_holder": "Concert Hall Ltd", "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX", "bank": "Commerzbank"})
    assert saved.status_code == 303
    assert admin.post("/admin/settings/shop", {"fraud_threshold": "60"}).status_code == 303
    assert setting(mill, "bank_details") == {
        "account_holder": "Concert Hall Ltd", "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX", "bank": "Commerzbank"}
    assert setting(mill, "fraud_threshold") == {"value": "60.00"}
    again = admin.get(bank_page).get_data(as_text=True)
    assert 'value="Concert Hall Ltd"' in again
    assert 'value="60.00"' in admin.get("/admin/settings/shop").get_data(as_text=True)


def test_staff_users_and_roles(admin: Admin, mill: Ordermill) -> None:
    page = admin.get("/admin/settings/staff").get_data(as_text=True)
    assert "admin@shop.test" in page and "What each role may do" in page
    assert "Refund money" in page
    created = admin.post("/admin/settings/staff", {
        "email": "Nia@Shop.test", "name": "Nia", "role": "support",
        "password": "long enough"})
    assert created.status_code == 303
    assert authenticate(mill, "nia@shop.test", "long enough").role == "support"
    short = admin.post("/admin/settings/staff", {"email": "x@shop.test", "name": "X",
                                                 "role": "viewer", "password": "short"})
    assert short.status_code == 422
    duplicate = admin.post("/admin/settings/staff", {
        "email": "nia@shop.test", "name": "Nia", "role": "viewer", "password": "long enough"})
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.get_data(as_text=True)

    with mill.read_session() as session:
        nia = session.scalar(select(User).where(User.email == "nia@shop.test"))
        me = session.scalar(select(User).where(User.email == "admin@shop.test"))
    assert nia is not None and me is not None
    admin.post("/admin/settings/staff", {"action": "role", "user_id": nia.id,
                                         "role": "manager"})
    admin.post("/admin/settings/staff", {"action": "active", "user_id": nia.id, "active": "0"})
    with mill.read_session() as session:
        changed = session.get(User, nia.id)
    assert changed is not None and (changed.role, changed.active) == ("manager", False)
    own = admin.post("/admin/settings/staff", {"action": "role", "user_id": me.id,
                                               "role": "viewer"})
    assert own.status_code == 422
    assert "cannot change your own role" in own.get_data(as_text=True)
    unknown_role = admin.post("/admin/settings/staff", {"action": "role", "user_id": nia.id,
                                                        "role": "customer"})
    assert unknown_role.status_code == 422
