"""Accept, fraud, back to pending, set_status and bulk status changes (WHMCS order actions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.errors import (
    ActionNotAllowed,
    IllegalTransition,
    InvalidInput,
    OrderNotFound,
    PermissionDenied,
)
from ordermill.core.models import Order, OrderLine
from ordermill.core.specs import FraudResult
from ordermill.core.statuses import StatusSpec, payment_status
from ordermill.testing import order_request


class Recorder:
    """Remembers which after-commit hooks ran, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def on_accept(self, order: Order, options: Mapping[str, Any], ctx: Any) -> None:
        self.calls.append(("on_accept", dict(options)))

    @hookimpl
    def on_cancel(self, order: Order, lines: Any, ctx: Any) -> None:
        self.calls.append(("on_cancel", order.number))

    @hookimpl
    def on_fraud(self, order: Order, ctx: Any) -> None:
        self.calls.append(("on_fraud", order.number))

    @hookimpl
    def on_pending(self, order: Order, ctx: Any) -> None:
        self.calls.append(("on_pending", order.number))

    @hookimpl
    def on_status_changed(self, order: Order, old_status: str, new_status: str,
                          ctx: Any) -> None:
        self.calls.append(("on_status_changed", (order.number, old_status, new_status)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def recorder(register_plugin: Any) -> Recorder:
    plugin = Recorder()
    register_plugin(plugin, name="recorder")
    return plugin


# ---- accept ------------------------------------------------------------------------------


def test_accept_a_pending_order(mill, make_product, order_factory, staff, probe, recorder):
    make_product("HOSTING", stock=None, kind="service")
    order = order_factory([("HOSTING", 1)])
    options = {"server": "web1", "username": "bea", "password": "s3cret", "sendemail": True}
    result = mill.orders.accept(order.number, actor=staff, options=options, comment="ok")
    stored = probe.order(order.number)
    assert stored.status == "active"
    assert stored.accepted_at is not None
    events = probe.events(order.number)
    assert [(e.type, e.status_from, e.status_to) for e in events] == [
        ("placed", None, "pending"), ("accepted", "pending", "active")]
    assert events[-1].data["options"]["password"] == "set"  # never stored in history
    assert events[-1].comment == "ok"
    assert recorder.calls[0] == ("on_accept", options)  # the plugin gets the real password
    assert recorder.names() == ["on_accept", "on_status_changed"]
    assert result.preview["status"] == {"from": "pending", "to": "active"}


@pytest.mark.parametrize("how", ["active", "cancelled", "fraud", "refunded"])
def test_only_pending_orders_can_be_accepted(mill, make_product, order_factory, staff, probe,
                                             recorder, how):
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 1)], paid=how == "refunded")
    if how == "active":
        mill.orders.accept(order.number, actor=staff)
    elif how == "cancelled":
        mill.orders.cancel(order.number, actor=staff)
    elif how == "fraud":
        mill.orders.mark_fraud(order.number, actor=staff)
    else:
        mill.orders.refund(order.number, actor=staff)
    recorder.calls.clear()
    before = probe.snapshot(order.number)
    with pytest.raises(IllegalTransition, match="Only pending orders can be accepted") as caught:
        mill.orders.accept(order.number, actor=staff)
    assert caught.value.details["from"] == how
    probe.assert_unchanged(before, order.number)
    assert recorder.calls == []


def test_accept_an_unknown_order(mill, staff):
    with pytest.raises(OrderNotFound, match="No order 1234567890"):
        mill.orders.accept("1234567890", actor=staff)
    with pytest.raises(OrderNotFound, match="10 digits"):
        mill.orders.accept("12", actor=staff)


# ---- fraud and back to pending -------------------------------------------------------------


def test_mark_fraud_cancels_unpaid_invoices_and_pending_restores_them(
        mill, make_product, order_factory, staff, probe, recorder):
    make_product("COURSE", price=3000, stock=None)
    order = order_factory([("COURSE", 1)], invoice_plan=[1000, 2000])
    mill.orders.record_payment(order.number, actor=staff, amount=1000)
    mill.orders.mark_fraud(order.number, actor=staff, comment="stolen card")
    stored = probe.order(order.number)
    assert stored.status == "fraud"
    assert [(i.amount, i.status) for i in stored.invoices] == [(1000, "paid"),
                                                               (2000, "cancelled")]
    fraud_event = probe.events(order.number)[-1]
    assert (fraud_event.type, fraud_event.status_to, fraud_event.comment) == (
        "fraud", "fraud", "stolen card")
    assert fraud_event.data["cancelled_invoices"] == [stored.invoices[1].id]
    assert recorder.names() == ["on_fraud", "on_status_changed"]

    recorder.calls.clear()
    mill.orders.set_back_to_pending(order.number, actor=staff)
    stored = probe.order(order.number)
    assert stored.status == "pending"
    assert [(i.amount, i.status) for i in stored.invoices] == [(1000, "paid"), (2000, "unpaid")]
    assert probe.events(order.number)[-1].data["reopened_invoices"] == [stored.invoices[1].id]
    assert recorder.names() == ["on_pending", "on_status_changed"]
    assert payment_status(stored) == "partially_paid"
    assert probe.event_types(order.number) == ["placed", "payment", "fraud", "pending"]


def test_back_to_pending_reopens_only_what_fraud_cancelled(mill, make_product, order_factory,
                                                           staff, probe):
    """An invoice cancelled earlier (by cancelling a line) stays cancelled."""
    make_product("A", price=1000, stock=None)
    make_product("B", price=2000, stock=None)
    order = order_factory([("A", 1), ("B", 1)], invoice_plan=[1000, 2000])
    mill.orders.cancel(order.number, actor=staff, line_ids=[order.lines[1].id])
    stored = probe.order(order.number)
    assert [(i.amount, i.status) for i in stored.invoices] == [(1000, "unpaid"),
                                                               (2000, "cancelled")]
    mill.orders.mark_fraud(order.number, actor=staff)
    mill.orders.set_back_to_pending(order.number, actor=staff)
    stored = probe.order(order.number)
    assert [(i.amount, i.status) for i in stored.invoices] == [(1000, "unpaid"),
                                                               (2000, "cancelled")]
    assert probe.events(order.number)[-1].data["reopened_invoices"] == [stored.invoices[0].id]


def test_placed_as_fraud_then_back_to_pending(mill, make_product, staff, probe,
                                              register_plugin):
    make_product("TICKET", stock=5)

    class Risky:
        @hookimpl
        def fraud_check(self, order: Order, ctx: Any) -> FraudResult:
            return FraudResult(provider="risky", score=Decimal("99"))

    register_plugin(Risky(), name="risky")
    number = mill.orders.place(order_request([("TICKET", 1)]), actor=staff).order.number
    assert [i.status for i in probe.order(number).invoices] == ["cancelled"]
    mill.orders.set_back_to_pending(number, actor=staff)
    stored = probe.order(number)
    assert stored.status == "pending"
    assert [i.status for i in stored.invoices] == ["unpaid"]
    mill.orders.mark_paid(number, actor=staff)
    mill.orders.accept(number, actor=staff)
    assert probe.order(number).status == "active"


@pytest.mark.parametrize("how", ["cancelled", "refunded"])
def test_closed_orders_cannot_be_set_as_fraud_or_pending(mill, make_product, order_factory,
                                                         staff, probe, how):
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 1)], paid=how == "refunded")
    if how == "cancelled":
        mill.orders.cancel(order.number, actor=staff)
    else:
        mill.orders.refund(order.number, actor=staff)
    before = probe.snapshot(order.number)
    with pytest.raises(IllegalTransition, match="Cannot set as fraud an order that is"):
        mill.orders.mark_fraud(order.number, actor=staff)
    with pytest.raises(IllegalTransition, match="Cannot set back to pending an order that is"):
        mill.orders.set_back_to_pending(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)


def test_fraud_twice_is_refused(mill, make_product, order_factory, staff, probe):
    make_product("TICKET")
    order = order_factory([("TICKET", 1)])
    mill.orders.mark_fraud(order.number, actor=staff)
    before = probe.snapshot(order.number)
    with pytest.raises(IllegalTransition, match="Fraud may move to Cancelled, Pending, "
                                                "Refunded, not Fraud"):
        mill.orders.mark_fraud(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)


def test_active_order_back_to_pending(mill, make_product, order_factory, staff, probe):
    make_product("TICKET")
    order = order_factory([("TICKET", 1)], accepted=True)
    mill.orders.set_back_to_pending(order.number, actor=staff)
    assert probe.order(order.number).status == "pending"
    assert probe.events(order.number)[-1].data["reopened_invoices"] == []


# ---- set_status and custom statuses --------------------------------------------------------


class OnHold:
    @hookimpl
    def register_statuses(self, settings: Any) -> Iterable[StatusSpec]:
        return [StatusSpec("on_hold", "On hold", "pending", "#999999",
                           transitions={"active", "cancelled", "pending"},
                           reachable_from={"pending", "active"})]


def test_set_status_to_a_custom_status(mill, make_product, order_factory, staff, probe,
                                       register_plugin, recorder):
    register_plugin(OnHold(), name="on-hold")
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 1)])
    mill.orders.set_status(order.number, "on_hold", actor=staff, comment="waiting for ID")
    stored = probe.order(order.number)
    assert stored.status == "on_hold"
    event = probe.events(order.number)[-1]
    assert (event.type, event.status_from, event.status_to, event.message) == (
        "status_changed", "pending", "on_hold", "Status set to On hold.")
    assert recorder.names() == ["on_status_changed"]
    # on_hold is of the pending category: it can be accepted
    mill.orders.accept(order.number, actor=staff)
    assert probe.order(order.number).status == "active"


def test_set_status_refusals(mill, make_product, order_factory, staff, probe):
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 1)], paid=True)
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="cannot refund money: use refund instead"):
        mill.orders.set_status(order.number, "refunded", actor=staff)
    with pytest.raises(IllegalTransition, match="Unknown status 'shipped'"):
        mill.orders.set_status(order.number, "shipped", actor=staff)
    with pytest.raises(IllegalTransition, match="may move to"):
        mill.orders.set_status(order.number, "pending", actor=staff)  # pending -> pending
    probe.assert_unchanged(before, order.number)


def test_set_status_cancelled_closes_lines_and_releases_stock(mill, make_product,
                                                              order_factory, staff, probe,
                                                              recorder):
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 2)])
    assert probe.stock("TICKET") == 3
    mill.orders.set_status(order.number, "cancelled", actor=staff)
    stored = probe.order(order.number)
    assert [line.status for line in stored.lines] == ["cancelled"]
    assert [i.status for i in stored.invoices] == ["cancelled"]
    assert probe.stock("TICKET") == 5
    assert stored.cancelled_at is not None
    assert recorder.names() == ["on_status_changed"]  # statuses only, no on_cancel


# ---- bulk --------------------------------------------------------------------------------


def test_bulk_set_status_changes_allowed_and_skips_the_rest(
        mill, make_product, order_factory, staff, probe, recorder):
    make_product("TICKET", stock=10)
    first = order_factory([("TICKET", 1)])
    second = order_factory([("TICKET", 1)])
    cancelled = order_factory([("TICKET", 1)])
    mill.orders.cancel(cancelled.number, actor=staff)
    already = order_factory([("TICKET", 1)], accepted=True)
    recorder.calls.clear()
    counts = {n: len(probe.events(n)) for n in (first.number, second.number,
                                                cancelled.number, already.number)}
    cancelled_before = mill.orders.describe(cancelled.number)

    result = mill.orders.bulk_set_status(
        [first.number, second.number, cancelled.number, already.number, "9999999999",
         first.number], "active", actor=staff)

    assert result.changed == (first.number, second.number)
    assert set(result.skipped) == {cancelled.number, already.number, "9999999999"}
    assert "Cancelled may move to Refunded, not Active" in result.skipped[cancelled.number]
    assert result.skipped[already.number] == "already active"
    assert result.skipped["9999999999"] == "no such order"
    for number in (first.number, second.number):
        assert probe.order(number).status == "active"
        assert probe.order(number).accepted_at is None  # a status change, not an accept
        events = probe.events(number)
        assert len(events) == counts[number] + 1
        assert (events[-1].type, events[-1].status_from, events[-1].status_to) == (
            "bulk_status_changed", "pending", "active")
    assert len(probe.events(already.number)) == counts[already.number]
    assert mill.orders.describe(cancelled.number) == cancelled_before
    # statuses only: no module commands
    assert recorder.names() == ["on_status_changed", "on_status_changed"]


def test_bulk_cancel_releases_stock_without_on_cancel(mill, make_product, order_factory,
                                                      staff, probe, recorder):
    make_product("TICKET", stock=10)
    orders = [order_factory([("TICKET", 2)]) for _ in range(3)]
    assert probe.stock("TICKET") == 4
    recorder.calls.clear()
    result = mill.orders.bulk_set_status([o.number for o in orders], "cancelled", actor=staff)
    assert len(result.changed) == 3 and result.skipped == {}
    assert probe.stock("TICKET") == 10
    assert "on_cancel" not in recorder.names()
    assert recorder.names().count("on_status_changed") == 3


def test_bulk_to_refunded_skips_every_order(mill, make_product, order_factory, staff, probe):
    make_product("TICKET", stock=10)
    order = order_factory([("TICKET", 1)], paid=True)
    before = probe.snapshot(order.number)
    result = mill.orders.bulk_set_status([order.number], "refunded", actor=staff)
    assert result.changed == ()
    assert "use refund instead" in result.skipped[order.number]
    probe.assert_unchanged(before, order.number)


def test_bulk_refusals(mill, make_product, order_factory, staff, viewer, support, probe):
    make_product("TICKET", stock=10)
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(IllegalTransition, match="Unknown status"):
        mill.orders.bulk_set_status([order.number], "nope", actor=staff)
    with pytest.raises(InvalidInput, match="No orders chosen"):
        mill.orders.bulk_set_status([], "active", actor=staff)
    for who in (viewer, support):
        with pytest.raises(PermissionDenied, match="change the status of many orders"):
            mill.orders.bulk_set_status([order.number], "active", actor=who)
    probe.assert_unchanged(before, order.number)


def test_bulk_dry_run_changes_nothing(mill, make_product, order_factory, staff, probe):
    make_product("TICKET", stock=10)
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    result = mill.orders.bulk_set_status([order.number], "cancelled", actor=staff,
                                         dry_run=True)
    assert result.changed == (order.number,)
    probe.assert_unchanged(before, order.number)


def test_line_ids_of_another_order_are_refused(mill, make_product, order_factory, staff,
                                               probe):
    make_product("TICKET", stock=10)
    mine = order_factory([("TICKET", 1)])
    other = order_factory([("TICKET", 1)])
    before = probe.snapshot(mine.number)
    with pytest.raises(InvalidInput, match=f"Order {mine.number} has no line"):
        mill.orders.cancel(mine.number, actor=staff, line_ids=[other.lines[0].id])
    probe.assert_unchanged(before, mine.number)


def _unused(line: OrderLine) -> None:  # keeps the OrderLine import honest for type checkers
    del line
