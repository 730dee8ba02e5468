"""For every action: exactly one event, optimistic locking, and permissions that change nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.errors import PermissionDenied, StaleOrder
from ordermill.core.models import Order
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor, FraudResult

Setup = Callable[[Any, Any, Actor], str]
Call = Callable[[Any, str, Actor, dict[str, Any]], Any]


def _pending(mill: Any, order_factory: Any, staff: Actor) -> str:
    return str(order_factory([("SEAT", 2), ("MUG", 1)]).number)


def _paid(mill: Any, order_factory: Any, staff: Actor) -> str:
    return str(order_factory([("SEAT", 2), ("MUG", 1)], paid=True).number)


def _fraud(mill: Any, order_factory: Any, staff: Actor) -> str:
    number = _pending(mill, order_factory, staff)
    mill.orders.mark_fraud(number, actor=staff)
    return number


def _uninvoiced(mill: Any, order_factory: Any, staff: Actor) -> str:
    return str(order_factory([("SEAT", 2), ("MUG", 1)], generate_invoice=False).number)


def _first_line(mill: Any, number: str) -> int:
    return int(mill.orders.get(number).lines[0].id)


ACTIONS: dict[str, tuple[Setup, Call, str]] = {
    "accept": (_pending, lambda m, n, a, kw: m.orders.accept(n, actor=a, **kw), "accepted"),
    "cancel": (_pending, lambda m, n, a, kw: m.orders.cancel(n, actor=a, **kw), "cancelled"),
    "cancel_line": (_pending, lambda m, n, a, kw: m.orders.cancel(
        n, actor=a, line_ids=[_first_line(m, n)], **kw), "cancelled"),
    "refund": (_paid, lambda m, n, a, kw: m.orders.refund(n, actor=a, **kw), "refunded"),
    "refund_line": (_paid, lambda m, n, a, kw: m.orders.refund(
        n, actor=a, line_ids=[_first_line(m, n)], **kw), "refunded"),
    "refund_amount": (_paid, lambda m, n, a, kw: m.orders.refund(n, actor=a, amount=100, **kw),
                      "refunded"),
    "cancel_and_refund": (_paid, lambda m, n, a, kw: m.orders.cancel_and_refund(
        n, actor=a, **kw), "cancelled_and_refunded"),
    "mark_fraud": (_pending, lambda m, n, a, kw: m.orders.mark_fraud(n, actor=a, **kw),
                   "fraud"),
    "set_back_to_pending": (_fraud, lambda m, n, a, kw: m.orders.set_back_to_pending(
        n, actor=a, **kw), "pending"),
    "set_status": (_pending, lambda m, n, a, kw: m.orders.set_status(n, "completed", actor=a,
                                                                      **kw), "status_changed"),
    "record_payment": (_pending, lambda m, n, a, kw: m.orders.record_payment(
        n, actor=a, amount=500, **kw), "payment"),
    "mark_paid": (_pending, lambda m, n, a, kw: m.orders.mark_paid(n, actor=a, **kw),
                  "payment"),
    "add_lines": (_pending, lambda m, n, a, kw: m.orders.add_lines(
        n, [LineRequest("MUG", 1)], actor=a, **kw), "lines_added"),
    "edit_buyer": (_pending, lambda m, n, a, kw: m.orders.edit_buyer(
        n, {"name": "Someone Else"}, actor=a, **kw), "buyer_edited"),
    "add_comment": (_pending, lambda m, n, a, kw: m.orders.add_comment(
        n, "Called the buyer", actor=a, **kw), "comment"),
    "mark_dispatched": (_paid, lambda m, n, a, kw: m.orders.mark_dispatched(n, actor=a, **kw),
                        "dispatched"),
    "mark_delivered": (_paid, lambda m, n, a, kw: m.orders.mark_delivered(n, actor=a, **kw),
                       "delivered"),
    "rerun_fraud_check": (_pending, lambda m, n, a, kw: m.orders.rerun_fraud_check(
        n, actor=a, **kw), "fraud_checked"),
    "delete": (_pending, lambda m, n, a, kw: m.orders.delete(n, actor=a, restock=True, **kw),
               "deleted"),
    "issue_invoice": (_uninvoiced, lambda m, n, a, kw: m.orders.issue_invoice(n, actor=a, **kw),
                      "invoice_issued"),
}


class LowRisk:
    @hookimpl
    def fraud_check(self, order: Order, ctx: Any) -> FraudResult:
        return FraudResult(provider="low-risk", score=Decimal("5"))


@pytest.fixture
def setup_shop(make_product: Any, register_plugin: Any) -> None:
    make_product("SEAT", price=4000, stock=20, kind="ticket")
    make_product("MUG", price=900, stock=20)
    register_plugin(LowRisk(), name="low-risk")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_writes_exactly_one_event(mill, setup_shop, order_factory, staff, probe,
                                               action):
    setup, call, event_type = ACTIONS[action]
    number = setup(mill, order_factory, staff)
    before = probe.events(number)
    version = mill.orders.get(number).version
    result = call(mill, number, staff, {})
    after = probe.events(number)
    assert [e.id for e in after[:-1]] == [e.id for e in before]
    assert after[-1].type == event_type
    assert after[-1].actor == "user:admin@shop.test"
    assert result.event is not None and result.event.id == after[-1].id
    if action != "delete":
        assert mill.orders.get(number).version > version


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_stale_version_is_refused_and_changes_nothing(mill, setup_shop, order_factory, staff,
                                                      probe, action):
    """Two admins opened the order; the first saved; the second gets a conflict."""
    setup, call, _event = ACTIONS[action]
    number = setup(mill, order_factory, staff)
    seen_by_second_admin = mill.orders.get(number).version
    mill.orders.add_comment(number, "first admin was here", actor=staff)
    before = probe.snapshot(number)
    with pytest.raises(StaleOrder, match=f"Order {number} was changed by someone else") as error:
        call(mill, number, staff, {"expected_version": seen_by_second_admin})
    assert error.value.code == "stale_version"
    probe.assert_unchanged(before, number)
    # reloading and trying again works
    current = mill.orders.get(number).version
    call(mill, number, staff, {"expected_version": current})


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_viewer_may_change_nothing(mill, setup_shop, order_factory, staff, viewer, probe,
                                     action):
    setup, call, _event = ACTIONS[action]
    number = setup(mill, order_factory, staff)
    before = probe.snapshot(number)
    with pytest.raises(PermissionDenied, match=r"viewer@shop.test \(viewer\) may not"):
        call(mill, number, viewer, {})
    probe.assert_unchanged(before, number)


@pytest.mark.parametrize("action", ["accept", "cancel", "refund", "mark_paid", "add_lines",
                                    "delete", "mark_fraud"])
def test_dry_run_changes_nothing_and_previews(mill, setup_shop, order_factory, staff, probe,
                                              action):
    setup, call, _event = ACTIONS[action]
    number = setup(mill, order_factory, staff)
    before = probe.snapshot(number)
    result = call(mill, number, staff, {"dry_run": True})
    assert result.dry_run and result.order is None
    assert result.preview["number"] == number
    probe.assert_unchanged(before, number)


def test_version_moves_on_with_every_change(mill, setup_shop, order_factory, staff):
    number = _pending(mill, order_factory, staff)
    versions = [mill.orders.get(number).version]
    mill.orders.add_comment(number, "one", actor=staff)
    versions.append(mill.orders.get(number).version)
    mill.orders.accept(number, actor=staff, expected_version=versions[-1])
    versions.append(mill.orders.get(number).version)
    assert versions == sorted(set(versions))
    result = mill.orders.add_comment(number, "two", actor=staff)
    assert result.preview["version"] == mill.orders.get(number).version
