"""core.available: the actions it offers are the ones the core runs, the ones it leaves out are
the ones the core refuses, and the API's order answer carries them for the caller."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.available import ACTION_NAMES, available_actions
from ordermill.core.errors import OrdermillError
from ordermill.core.models import Order
from ordermill.core.order_links import revoke_customer_links
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor, FraudResult

STATES = ("pending", "partly_paid", "paid", "active", "fraud", "cancelled", "refunded",
          "dispatched")
# Accepted by the core but not offered: a payment on an ended order is recorded and flagged
# for the admin; recording a dispatch or delivery date again corrects it; a fraud check of an
# order that is neither pending nor fraud can change nothing; cancel & refund of an order with
# nothing to refund is a plain cancel, offered as "Cancel" only.
OFFERED_LESS_THAN_ALLOWED = {"record_payment", "mark_paid", "mark_dispatched", "mark_delivered",
                             "rerun_fraud_check", "cancel_and_refund"}


class Fraud:
    @hookimpl
    def fraud_check(self, order: Order) -> FraudResult:
        return FraudResult(provider="house", score=Decimal("10"))


@pytest.fixture
def make_order(mill: Ordermill, make_product: Callable[..., Any],
               order_factory: Callable[..., Order], staff: Actor,
               register_plugin: Callable[..., Any]) -> Callable[[str], Order]:
    register_plugin(Fraud(), name="house")
    make_product("TSHIRT", price=1250, stock=20)
    make_product("MUG", price=800, stock=None)

    def make(state: str) -> Order:
        order = order_factory([("TSHIRT", 2), ("MUG", 1)],
                              paid=state in ("paid", "active", "refunded", "dispatched"),
                              accepted=state in ("active", "dispatched"))
        number = order.number
        if state == "partly_paid":
            mill.orders.record_payment(number, actor=staff, amount=1000)
        elif state == "fraud":
            mill.orders.mark_fraud(number, actor=staff)
        elif state == "cancelled":
            mill.orders.cancel(number, actor=staff)
        elif state == "refunded":
            mill.orders.refund(number, actor=staff)
        elif state == "dispatched":
            mill.orders.mark_dispatched(number, actor=staff)
        return mill.orders.get(number)

    return make


def run(mill: Ordermill, name: str, order: Order, actor: Actor) -> None:
    """Run the action by its core name, as a dry run where the core has one."""
    number, orders = order.number, mill.orders
    due = sum(line.total for line in order.lines)
    target = next((n for n in sorted(mill.statuses.targets(order.status))
                   if mill.statuses.category(n) != "refunded"), "pending")
    calls: dict[str, Callable[[], Any]] = {
        "accept": lambda: orders.accept(number, actor=actor, dry_run=True),
        "mark_paid": lambda: orders.mark_paid(number, actor=actor, dry_run=True),
        "record_payment": lambda: orders.record_payment(number, actor=actor, amount=due,
                                                        dry_run=True),
        "cancel": lambda: orders.cancel(number, actor=actor, dry_run=True),
        "refund": lambda: orders.refund(number, actor=actor, dry_run=True),
        "cancel_and_refund": lambda: orders.cancel_and_refund(number, actor=actor,
                                                              dry_run=True),
        "mark_fraud": lambda: orders.mark_fraud(number, actor=actor, dry_run=True),
        "set_back_to_pending": lambda: orders.set_back_to_pending(number, actor=actor,
                                                                  dry_run=True),
        "set_status": lambda: orders.set_status(number, target, actor=actor, dry_run=True),
        "revoke_customer_links": lambda: revoke_customer_links(mill, number, actor=actor,
                                                               dry_run=True),
        "rerun_fraud_check": lambda: orders.rerun_fraud_check(number, actor=actor),
        "delete": lambda: orders.delete(number, actor=actor, restock=True, dry_run=True),
        "add_lines": lambda: orders.add_lines(number, [LineRequest("MUG")], actor=actor,
                                              dry_run=True),
        "edit_buyer": lambda: orders.edit_buyer(number, {"name": "Other Name"}, actor=actor,
                                                dry_run=True),
        "add_comment": lambda: orders.add_comment(number, "Hello", actor=actor, dry_run=True),
        "mark_dispatched": lambda: orders.mark_dispatched(number, actor=actor, dry_run=True),
        "mark_delivered": lambda: orders.mark_delivered(number, actor=actor, dry_run=True),
        "issue_invoice": lambda: orders.issue_invoice(number, actor=actor, dry_run=True),
    }
    calls[name]()


@pytest.mark.parametrize("state", STATES)
def test_offered_actions_run_and_the_others_are_refused(
        mill: Ordermill, make_order: Callable[[str], Order], staff: Actor, state: str) -> None:
    order = make_order(state)
    offered = available_actions(mill, order, staff)
    assert offered, state
    assert offered == [name for name in ACTION_NAMES if name in offered]  # a stable order
    for name in ACTION_NAMES:
        if name == "resend_confirmation":  # needs a mail plugin: its rule is checked below
            continue
        if name in offered:
            run(mill, name, order, staff)  # must not raise
        elif name not in OFFERED_LESS_THAN_ALLOWED and name != "set_status":
            with pytest.raises(OrdermillError):
                run(mill, name, order, staff)
                pytest.fail(f"{name} is not offered for a {state} order, yet the core ran it")


def test_the_rules_of_each_state(mill: Ordermill, make_order: Callable[[str], Order],
                                 staff: Actor) -> None:
    def offered(state: str) -> set[str]:
        return set(available_actions(mill, make_order(state), staff))

    pending = offered("pending")
    assert {"accept", "mark_paid", "cancel", "mark_fraud", "delete", "add_lines",
            "rerun_fraud_check"} <= pending
    assert not {"refund", "set_back_to_pending", "resend_confirmation"} & pending
    assert "cancel_and_refund" not in pending  # unpaid: nothing to refund (issue 14)
    assert "cancel_and_refund" in offered("partly_paid")
    assert "cancel_and_refund" not in offered("fraud")
    paid = offered("paid")
    assert {"refund", "resend_confirmation", "accept"} <= paid
    assert not {"mark_paid", "record_payment", "delete"} & paid
    assert {"set_back_to_pending", "cancel"} <= offered("fraud")
    cancelled = offered("cancelled")
    assert "delete" in cancelled
    assert not {"cancel", "cancel_and_refund", "mark_dispatched", "add_lines",
                "mark_paid"} & cancelled
    assert "mark_dispatched" not in offered("dispatched")
    assert "mark_delivered" in offered("dispatched")


def test_permissions_narrow_the_list(mill: Ordermill, make_order: Callable[[str], Order]
                                     ) -> None:
    order = make_order("paid")

    def as_role(role: str) -> set[str]:
        return set(available_actions(mill, order, Actor(kind="user", name=f"{role}@x",
                                                        role=role)))

    admin = as_role("admin")
    support = as_role("support")
    assert {"refund", "mark_fraud", "delete"} & admin == {"refund", "mark_fraud"}
    assert not {"refund", "cancel_and_refund", "mark_fraud", "rerun_fraud_check"} & support
    assert {"accept", "cancel", "add_comment"} <= support
    assert as_role("viewer") == set()
    assert set(available_actions(mill, order, Actor.system("robot"))) == admin


def test_the_api_order_answer_lists_the_callers_actions(
        mill: Ordermill, api: Any, make_order: Callable[[str], Order]) -> None:
    order = make_order("pending")
    as_admin = api.get(f"orders/{order.number}").get_json()
    as_support = api.get(f"orders/{order.number}", role="support").get_json()
    admin = Actor(kind="user", name="admin@shop.test", role="admin")
    assert as_admin["available_actions"] == available_actions(mill, order, admin)
    assert "mark_fraud" in as_admin["available_actions"]
    assert "mark_fraud" not in as_support["available_actions"]
    assert api.get(f"orders/{order.number}", role="viewer").get_json()[
        "available_actions"] == []
    accepted = api.post(f"orders/{order.number}/accept", json={}).get_json()
    assert "accept" not in accepted["order"]["available_actions"]
    assert "cancel" in accepted["order"]["available_actions"]
    document = api.get("openapi.json", role=None).get_json()
    for schema in ("OrderOut", "OrderDetailOut"):  # the action answers' order, and GET's
        field = document["components"]["schemas"][schema]["properties"]["available_actions"]
        assert field["items"]["enum"] == list(ACTION_NAMES)
        assert "available_actions" in document["components"]["schemas"][schema]["required"]
