"""Issue 10 item 3: a status change is no back door around the named actions.

Through HTTP on both databases: a support token (edit_orders, no manage_fraud, no refund)
cannot move an order into or out of fraud, nor to refunded, with POST /orders/N/status, and
nothing changes; an admin's status change into fraud cancels the open invoices and the way
back reopens them; a status change to cancelled releases stock; a move between two statuses
of one category stays plain; bulk changes apply the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor

CUSTOM = (
    {"name": "on_hold", "label": "On hold", "category": "pending",
     "transitions": ["pending", "active"], "reachable_from": ["pending"]},
    {"name": "fraud_review", "label": "Fraud review", "category": "fraud",
     "transitions": ["pending", "cancelled"], "reachable_from": ["fraud"]},
)


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"custom_statuses": CUSTOM}


@pytest.fixture
def pending(mill: Ordermill, make_product: Callable[..., Any],
            order_factory: Callable[..., Order]) -> Order:
    make_product("TSHIRT", price=2000, stock=10)
    return order_factory([("TSHIRT", 2)])


def invoices(mill: Ordermill, number: str) -> list[str]:
    return [invoice.status for invoice in mill.orders.get(number).invoices]


def stock(mill: Ordermill) -> int | None:
    from sqlalchemy import select

    from ordermill.core.models import Product
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == "TSHIRT"))


def set_status(api: Any, number: str, status: str, role: str) -> Any:
    return api.post(f"orders/{number}/status", role=role, json={"status": status})


def test_support_cannot_set_fraud_or_take_it_back_and_nothing_changes(
        mill: Ordermill, api: Any, pending: Order, staff: Actor,
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    error = error_of(set_status(api, pending.number, "fraud", "support"), 403,
                     "permission_denied")
    assert error["details"] == {"permission": "manage_fraud", "role": "support"}
    assert "set as fraud" in error["message"] and pending.number in error["message"]
    error_of(api.post(f"orders/{pending.number}/status?dry_run=true", role="support",
                      json={"status": "fraud"}), 403)
    same()
    assert mill.orders.get(pending.number).status == "pending"
    assert invoices(mill, pending.number) == ["unpaid"]

    mill.orders.mark_fraud(pending.number, actor=staff)  # by someone allowed to
    same = unchanged()
    error = error_of(set_status(api, pending.number, "pending", "support"), 403,
                     "permission_denied")
    assert error["details"]["permission"] == "manage_fraud"
    error_of(api.post(f"orders/{pending.number}/status?dry_run=true", role="support",
                      json={"status": "pending"}), 403)
    same()
    assert mill.orders.get(pending.number).status == "fraud"


def test_admin_status_change_into_fraud_and_back_does_the_bookkeeping(
        mill: Ordermill, api: Any, pending: Order) -> None:
    assert invoices(mill, pending.number) == ["unpaid"]
    into = set_status(api, pending.number, "fraud", "admin")
    assert into.status_code == 200, into.get_json()
    body = into.get_json()
    assert body["order"]["status"] == "fraud"
    assert [inv["payment_status"] for inv in body["order"]["invoices"]] == ["cancelled"]
    assert [inv["status"] for inv in body["order"]["invoices"]] == ["void"]  # keeps its number
    assert body["event"]["data"]["cancelled_invoices"] == [pending.invoices[0].id]
    # a move between two fraud statuses is plain, and the way back still knows the invoices
    inside = set_status(api, pending.number, "fraud_review", "admin")
    assert inside.status_code == 200
    assert "cancelled_invoices" not in inside.get_json()["event"]["data"]
    back = set_status(api, pending.number, "pending", "admin")
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["order"]["status"] == "pending"
    assert invoices(mill, pending.number) == ["unpaid"]  # reopened
    assert back.get_json()["event"]["data"]["reopened_invoices"] == [pending.invoices[0].id]


def test_status_cancelled_releases_stock_and_refunded_needs_the_refund_permission(
        mill: Ordermill, api: Any, pending: Order, error_of: Callable[..., Any],
        unchanged: Callable[..., Any]) -> None:
    assert stock(mill) == 8
    same = unchanged()
    error = error_of(set_status(api, pending.number, "refunded", "support"), 403,
                     "permission_denied")
    assert error["details"]["permission"] == "refund"
    error_of(set_status(api, pending.number, "refunded", "admin"), 409, "action_not_allowed")
    same()
    done = set_status(api, pending.number, "cancelled", "support")  # cancel is edit_orders
    assert done.status_code == 200, done.get_json()
    assert stock(mill) == 10
    assert invoices(mill, pending.number) == ["cancelled"]
    assert {line["status"] for line in done.get_json()["order"]["lines"]} == {"cancelled"}


def test_a_move_inside_one_category_stays_a_plain_status_change(
        mill: Ordermill, api: Any, pending: Order) -> None:
    held = set_status(api, pending.number, "on_hold", "support")
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["event"]["data"] == {"status": "on_hold"}
    assert invoices(mill, pending.number) == ["unpaid"]
    assert set_status(api, pending.number, "pending", "support").status_code == 200


def test_bulk_status_change_applies_the_same_rules(
        mill: Ordermill, api: Any, pending: Order, order_factory: Callable[..., Order],
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    other = order_factory([("TSHIRT", 1)])
    same = unchanged()
    error_of(api.post("orders/bulk-status", role="support", json={
        "numbers": [pending.number], "status": "fraud"}), 403, "permission_denied")
    same()
    done = api.post("orders/bulk-status", role="manager", json={
        "numbers": [pending.number, other.number], "status": "fraud"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["changed"] == [pending.number, other.number]
    for number in (pending.number, other.number):
        assert mill.orders.get(number).status == "fraud"
        assert invoices(mill, number) == ["cancelled"]
    back = api.post("orders/bulk-status", role="manager", json={
        "numbers": [pending.number], "status": "pending"})
    assert back.get_json()["changed"] == [pending.number]
    assert invoices(mill, pending.number) == ["unpaid"]


def test_the_cli_actor_gets_the_bookkeeping_too(mill: Ordermill, pending: Order) -> None:
    """`ordermill order set-status` acts as the system user `cli`: allowed, with bookkeeping."""
    cli = Actor.system("cli")
    mill.orders.set_status(pending.number, "fraud", actor=cli)
    assert invoices(mill, pending.number) == ["cancelled"]
    mill.orders.set_status(pending.number, "pending", actor=cli)
    assert invoices(mill, pending.number) == ["unpaid"]
