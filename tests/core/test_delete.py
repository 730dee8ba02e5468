"""Delete, with and without restock (osConcert 'Delete & Restock', WHMCS DeleteOrder)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.errors import ActionNotAllowed, OrderNotFound, PermissionDenied, StaleOrder
from ordermill.core.models import FraudCheck, Invoice, OrderEvent, OrderLine, Payment


@pytest.fixture
def seats(make_product: Any) -> None:
    make_product("SEAT", price=4000, stock=10, kind="ticket")
    make_product("PROGRAMME", price=500, stock=5)


def rows(mill: Any, model: type[Any]) -> int:
    with mill.read_session() as session:
        return len(session.scalars(select(model)).all())


def test_delete_an_unpaid_order_with_restock(mill, seats, order_factory, staff, probe):
    order = order_factory([("SEAT", 3), ("PROGRAMME", 1)])
    assert (probe.stock("SEAT"), probe.stock("PROGRAMME")) == (7, 4)
    deleted = []

    class Listener:
        @hookimpl
        def on_delete(self, order_number: str, snapshot: Any, ctx: Any) -> None:
            deleted.append((order_number, snapshot["total"]))

    mill.plugins.register(Listener(), "listener")
    try:
        result = mill.orders.delete(order.number, actor=staff, restock=True)
    finally:
        mill.plugins.unregister("listener")
    assert (probe.stock("SEAT"), probe.stock("PROGRAMME")) == (10, 5)
    assert result.preview["stock_released"] == {"SEAT": 3, "PROGRAMME": 1}
    with pytest.raises(OrderNotFound):
        mill.orders.get(order.number)
    for model in (OrderLine, Payment, FraudCheck):
        assert rows(mill, model) == 0
    with mill.read_session() as session:  # the invoice is a money record: it stays
        [invoice] = session.scalars(select(Invoice)).all()
    assert (invoice.order_id, invoice.order_number) == (None, order.number)
    events = probe.events(order.number)  # the history survives the order
    assert [e.type for e in events] == ["placed", "deleted"]
    assert all(e.order_id is None for e in events)
    deletion = events[-1]
    assert deletion.message == "Order deleted for good, stock released."
    assert deletion.status_from == "pending"
    assert deletion.data["restock"] is True
    assert deletion.data["units_released"] == 4
    assert deletion.data["units_written_off"] == 0
    assert deletion.data["kept_invoices"] == [invoice.id]
    snapshot = deletion.data["snapshot"]
    assert snapshot["number"] == order.number
    assert snapshot["total"] == "125.00"
    assert [line["sku"] for line in snapshot["lines"]] == ["SEAT", "PROGRAMME"]
    assert snapshot["buyer"]["email"] == "buyer@example.com"
    assert deleted == [(order.number, "125.00")]


def test_delete_without_restock_writes_the_units_off(mill, seats, order_factory, staff, probe):
    order = order_factory([("SEAT", 3)])
    mill.orders.delete(order.number, actor=staff, restock=False)
    assert probe.stock("SEAT") == 7
    deletion = probe.events(order.number)[-1]
    assert deletion.message == "Order deleted for good, stock not returned."
    assert (deletion.data["units_released"], deletion.data["units_written_off"]) == (0, 3)


@pytest.mark.parametrize("how", ["cancelled", "fraud", "refunded", "cancelled-paid-refunded"])
def test_closed_and_fraud_orders_can_be_deleted(mill, seats, order_factory, staff, probe, how):
    order = order_factory([("SEAT", 2)], paid=how != "cancelled" and how != "fraud")
    if how == "cancelled":
        mill.orders.cancel(order.number, actor=staff, restock=False)
    elif how == "fraud":
        mill.orders.mark_fraud(order.number, actor=staff)
    elif how == "refunded":
        mill.orders.refund(order.number, actor=staff, restock=False)
    else:
        mill.orders.cancel(order.number, actor=staff, restock=False)
        mill.orders.refund(order.number, actor=staff, restock=False)
    assert probe.stock("SEAT") == 8
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert probe.stock("SEAT") == 10
    assert probe.event_types(order.number)[-1] == "deleted"
    paid = how not in ("cancelled", "fraud")
    assert probe.count(Payment) == (2 if paid else 0)  # the books keep charge and refund


def test_paid_orders_cannot_be_deleted(mill, seats, order_factory, staff, probe):
    paid = order_factory([("SEAT", 1)], paid=True)
    before = probe.snapshot(paid.number)
    with pytest.raises(ActionNotAllowed, match=rf"Order {paid.number} has €40.00 paid. Refund "
                                               r"it before deleting") as caught:
        mill.orders.delete(paid.number, actor=staff, restock=True)
    assert caught.value.details == {"paid": "40.00"}
    probe.assert_unchanged(before, paid.number)


def test_partly_paid_and_cancelled_but_paid_orders_cannot_be_deleted(
        mill, seats, order_factory, staff, probe):
    partly = order_factory([("SEAT", 1)])
    mill.orders.record_payment(partly.number, actor=staff, amount=100)
    cancelled = order_factory([("SEAT", 1)], paid=True)
    mill.orders.cancel(cancelled.number, actor=staff)
    for number, kept in ((partly.number, "1.00"), (cancelled.number, "40.00")):
        before = probe.snapshot(number)
        with pytest.raises(ActionNotAllowed, match=f"has €{kept} paid"):
            mill.orders.delete(number, actor=staff, restock=True)
        probe.assert_unchanged(before, number)


def test_an_open_order_with_refunded_payments_must_be_cancelled_first(
        mill, seats, order_factory, staff, probe):
    order = order_factory([("SEAT", 1)], paid=True)
    mill.orders.refund(order.number, actor=staff, amount=4000)  # goodwill: lines stay active
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match=r"Only unpaid, cancelled or fraud orders can be "
                                               r"deleted.*cancel it first"):
        mill.orders.delete(order.number, actor=staff, restock=True)
    probe.assert_unchanged(before, order.number)


def test_a_free_order_can_be_deleted(mill, make_product, make_promo, order_factory, staff,
                                     probe):
    make_product("SEAT", price=4000, stock=10)
    make_promo("GUEST", kind="percent", value=10000)
    order = order_factory([("SEAT", 1)], promo_code="GUEST")
    assert order.total == 0
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert probe.stock("SEAT") == 10


def test_delete_refusals_change_nothing(mill, seats, order_factory, staff, viewer, support,
                                        probe):
    order = order_factory([("SEAT", 1)])
    before = probe.snapshot(order.number)
    for who in (viewer, support):
        with pytest.raises(PermissionDenied, match="may not delete orders for good"):
            mill.orders.delete(order.number, actor=who, restock=True)
    with pytest.raises(StaleOrder, match="changed by someone else"):
        mill.orders.delete(order.number, actor=staff, restock=True,
                           expected_version=order.version - 1)
    with pytest.raises(OrderNotFound):
        mill.orders.delete("0000000001", actor=staff, restock=True)
    probe.assert_unchanged(before, order.number)


def test_delete_twice(mill, seats, order_factory, staff, probe):
    order = order_factory([("SEAT", 1)])
    mill.orders.delete(order.number, actor=staff, restock=True)
    before = probe.snapshot(order.number)
    with pytest.raises(OrderNotFound):
        mill.orders.delete(order.number, actor=staff, restock=True)
    probe.assert_unchanged(before, order.number)
    assert probe.stock("SEAT") == 10


def test_dry_run_delete_changes_nothing(mill, seats, order_factory, staff, probe):
    order = order_factory([("SEAT", 2)])
    before = probe.snapshot(order.number)
    result = mill.orders.delete(order.number, actor=staff, restock=True, dry_run=True)
    assert result.preview["stock_released"] == {"SEAT": 2}
    probe.assert_unchanged(before, order.number)


def test_other_orders_history_is_untouched(mill, seats, order_factory, staff, probe):
    keep = order_factory([("SEAT", 1)])
    gone = order_factory([("SEAT", 1)])
    mill.orders.delete(gone.number, actor=staff, restock=True)
    with mill.read_session() as session:
        kept = session.scalars(select(OrderEvent).where(
            OrderEvent.order_number == keep.number)).all()
    assert [e.order_id for e in kept] == [keep.id]
    assert mill.orders.get(keep.number).lines[0].units_held == 1
