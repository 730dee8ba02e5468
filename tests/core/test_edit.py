"""Editing placed orders: add products, buyer details, comments, dispatch and delivery dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.errors import (
    ActionNotAllowed,
    InvalidInput,
    OutOfStock,
    PermissionDenied,
    UnknownProduct,
)
from ordermill.core.models import Order, OrderEvent
from ordermill.core.requests import LineRequest
from ordermill.core.statuses import amount_due, line_summary, payment_status


class Edits:
    def __init__(self) -> None:
        self.changes: list[dict[str, Any]] = []
        self.comments: list[OrderEvent] = []

    @hookimpl
    def on_order_edited(self, order: Order, changes: Any, ctx: Any) -> None:
        self.changes.append(dict(changes))

    @hookimpl
    def on_comment_added(self, order: Order, event: OrderEvent, ctx: Any) -> None:
        self.comments.append(event)


@pytest.fixture
def edits(register_plugin: Any) -> Edits:
    plugin = Edits()
    register_plugin(plugin, name="edits")
    return plugin


@pytest.fixture
def shop(make_product: Any) -> None:
    make_product("TICKET", price=2500, stock=10, kind="ticket")
    make_product("PARKING", price=800, stock=2)
    make_product("DONATION", price=1000, stock=None)
    make_product("DOLLARS", price=1000, currency="USD")


# ---- add_lines ---------------------------------------------------------------------------


def test_add_products_to_an_unpaid_order(mill, shop, order_factory, staff, probe, edits):
    """osConcert 'Add Products': priced, stock reserved, owed on the open invoice."""
    order = order_factory([("TICKET", 1)])
    mill.orders.add_lines(order.number, [LineRequest("TICKET", 2), LineRequest("PARKING", 1)],
                          actor=staff, comment="phone request")
    stored = probe.order(order.number)
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.total, ln.units_held)
            for ln in stored.lines] == [
        ("TICKET", 1, 2500, 2500, 1), ("TICKET", 2, 2500, 5000, 2), ("PARKING", 1, 800, 800, 1)]
    assert (stored.subtotal, stored.total) == (8300, 8300)
    assert probe.stock("TICKET") == 7
    assert probe.stock("PARKING") == 1
    assert sum(inv.amount for inv in stored.invoices if inv.status == "unpaid") == 8300
    assert amount_due(stored) == 8300
    event = probe.events(order.number)[-1]
    assert (event.type, event.message, event.comment) == (
        "lines_added", "Added Ticket x2, Parking x1.", "phone request")
    assert len(probe.events(order.number)) == 2
    assert edits.changes[0]["added_lines"][0]["total"] == "50.00"


def test_add_products_to_a_paid_order_adds_an_invoice(mill, shop, order_factory, staff, probe):
    order = order_factory([("TICKET", 1)], paid=True, accepted=True)
    mill.orders.add_lines(order.number, [LineRequest("DONATION", 1)], actor=staff)
    stored = probe.order(order.number)
    assert [(inv.amount, inv.status) for inv in stored.invoices] == [(2500, "paid"),
                                                                     (1000, "unpaid")]
    assert stored.invoices[1].description == "Products added to the order"
    assert stored.paid_at is None
    assert (payment_status(stored), line_summary(stored)) == ("partially_paid",
                                                              "Partially paid")
    mill.orders.mark_paid(order.number, actor=staff)
    stored = probe.order(order.number)
    assert stored.payments[-1].amount == 1000
    assert [inv.status for inv in stored.invoices] == ["paid", "paid"]
    assert (payment_status(stored), line_summary(stored)) == ("paid", "Complete")


def test_add_products_after_a_partial_refund_is_owed(mill, shop, order_factory, staff, probe):
    order = order_factory([("TICKET", 1), ("TICKET", 1)], paid=True)
    mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    mill.orders.add_lines(order.number, [LineRequest("DONATION", 1)], actor=staff)
    stored = probe.order(order.number)
    assert amount_due(stored) == 1000
    assert payment_status(stored) == "partially_paid"  # money is owed again
    assert line_summary(stored) == "Partially paid"
    assert [(inv.amount, inv.status) for inv in stored.invoices] == [(5000, "paid"),
                                                                     (1000, "unpaid")]
    mill.orders.mark_paid(order.number, actor=staff)
    stored = probe.order(order.number)
    assert (payment_status(stored), line_summary(stored)) == ("partially_refunded",
                                                             "2/3 Complete")
    assert stored.payments[-1].amount == 1000
    assert [(inv.amount, inv.status) for inv in stored.invoices] == [(5000, "paid"),
                                                                     (1000, "paid")]
    assert stored.payments[-1].invoice_id == stored.invoices[1].id


def test_added_lines_get_the_order_percent_promo(mill, shop, make_promo, order_factory, staff,
                                                 probe):
    make_promo("SAVE10", kind="percent", value=1000)
    make_promo("FIVE", kind="fixed", value=500, currency="EUR")
    percent = order_factory([("TICKET", 1)], promo_code="SAVE10")
    mill.orders.add_lines(percent.number, [LineRequest("DONATION", 1)], actor=staff)
    stored = probe.order(percent.number)
    assert [(ln.discount, ln.total) for ln in stored.lines] == [(250, 2250), (100, 900)]
    assert (stored.subtotal, stored.discount, stored.total) == (3500, 350, 3150)
    fixed = order_factory([("TICKET", 1)], promo_code="FIVE")
    mill.orders.add_lines(fixed.number, [LineRequest("DONATION", 1)], actor=staff)
    stored = probe.order(fixed.number)
    assert (stored.discount, stored.total) == (500, 3000)  # a fixed promo is given once


def test_add_products_when_the_promo_has_since_expired(mill, shop, make_promo, order_factory,
                                                       staff, probe):
    promo = make_promo("SUMMER", kind="percent", value=1000)
    order = order_factory([("TICKET", 1)], promo_code="SUMMER")
    with mill.write_session() as session, session.begin():
        session.get(type(promo), promo.id).active = False
    mill.orders.add_lines(order.number, [LineRequest("DONATION", 1)], actor=staff)
    stored = probe.order(order.number)
    assert stored.lines[1].total == 1000  # no discount on additions after the promo ended
    assert stored.total == 2250 + 1000


def test_add_lines_refusals_change_nothing(mill, shop, order_factory, staff, viewer, probe):
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(OutOfStock, match="Parking"):
        mill.orders.add_lines(order.number, [LineRequest("TICKET", 1),
                                             LineRequest("PARKING", 3)], actor=staff)
    with pytest.raises(UnknownProduct, match="GHOST"):
        mill.orders.add_lines(order.number, [LineRequest("GHOST", 1)], actor=staff)
    with pytest.raises(InvalidInput,
                       match="Dollars \\(DOLLARS\\) has no price in EUR; it sells in USD"):
        mill.orders.add_lines(order.number, [LineRequest("DOLLARS", 1)], actor=staff)
    with pytest.raises(InvalidInput, match="at least one product"):
        mill.orders.add_lines(order.number, [], actor=staff)
    with pytest.raises(PermissionDenied):
        mill.orders.add_lines(order.number, [LineRequest("TICKET", 1)], actor=viewer)
    probe.assert_unchanged(before, order.number)


@pytest.mark.parametrize("how", ["cancelled", "fraud", "refunded"])
def test_no_products_can_be_added_to_closed_orders(mill, shop, order_factory, staff, probe,
                                                   how):
    order = order_factory([("TICKET", 1)], paid=how == "refunded")
    if how == "cancelled":
        mill.orders.cancel(order.number, actor=staff)
    elif how == "fraud":
        mill.orders.mark_fraud(order.number, actor=staff)
    else:
        mill.orders.refund(order.number, actor=staff)
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="only be added to pending or active orders"):
        mill.orders.add_lines(order.number, [LineRequest("TICKET", 1)], actor=staff)
    probe.assert_unchanged(before, order.number)


# ---- edit_buyer --------------------------------------------------------------------------


def test_edit_buyer(mill, shop, order_factory, staff, probe, edits):
    """Webex: change the buyer's e-mail so the cancellation e-mail reaches the right person."""
    order = order_factory([("TICKET", 1)])
    mill.orders.edit_buyer(order.number, {"email": " New@Example.COM ", "name": "Nell New",
                                          "billing_address": {"city": "Lyon"}}, actor=staff)
    stored = probe.order(order.number)
    assert (stored.buyer_email, stored.buyer_name, stored.billing_address) == (
        "new@example.com", "Nell New", {"city": "Lyon"})
    event = probe.events(order.number)[-1]
    assert event.type == "buyer_edited"
    assert event.data["changes"]["email"] == ["buyer@example.com", "new@example.com"]
    assert edits.changes == [{"buyer": event.data["changes"]}]
    assert len(probe.events(order.number)) == 2


def test_edit_buyer_refusals(mill, shop, order_factory, staff, viewer, probe):
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(InvalidInput, match="'not-an-email' is not an e-mail address"):
        mill.orders.edit_buyer(order.number, {"email": "not-an-email"}, actor=staff)
    with pytest.raises(InvalidInput, match="name is required"):
        mill.orders.edit_buyer(order.number, {"name": "  "}, actor=staff)
    with pytest.raises(InvalidInput, match="Unknown buyer field"):
        mill.orders.edit_buyer(order.number, {"status": "active"}, actor=staff)
    with pytest.raises(InvalidInput, match="Nothing to change"):
        mill.orders.edit_buyer(order.number, {}, actor=staff)
    with pytest.raises(InvalidInput, match="already on the order"):
        mill.orders.edit_buyer(order.number, {"email": "BUYER@example.com"}, actor=staff)
    with pytest.raises(PermissionDenied):
        mill.orders.edit_buyer(order.number, {"name": "X"}, actor=viewer)
    probe.assert_unchanged(before, order.number)


# ---- comments ----------------------------------------------------------------------------


@pytest.mark.parametrize(("notify", "visible", "shown"), [
    (False, False, False), (False, True, True), (True, False, True)])
def test_comments_are_events(mill, shop, order_factory, staff, probe, edits, notify, visible,
                             shown):
    """Kartris order progress: optionally e-mailed and shown in the customer's account."""
    order = order_factory([("TICKET", 1)])
    result = mill.orders.add_comment(order.number, "  Shipping is delayed by a week.  ",
                                     actor=staff, notify_customer=notify,
                                     visible_to_customer=visible)
    event = probe.events(order.number)[-1]
    assert (event.type, event.comment, event.notify_customer, event.visible_to_customer) == (
        "comment", "Shipping is delayed by a week.", False, shown)  # no e-mail set up
    assert event.actor == "user:admin@shop.test"
    assert [e.id for e in edits.comments] == [event.id] == [result.event.id]
    assert probe.order(order.number).status == "pending"


def test_empty_comment_is_refused(mill, shop, order_factory, staff, viewer, probe):
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(InvalidInput, match="cannot be empty"):
        mill.orders.add_comment(order.number, "   ", actor=staff)
    with pytest.raises(PermissionDenied):
        mill.orders.add_comment(order.number, "hi", actor=viewer)
    probe.assert_unchanged(before, order.number)


def test_comments_on_closed_orders_are_fine(mill, shop, order_factory, staff, probe):
    order = order_factory([("TICKET", 1)])
    mill.orders.cancel(order.number, actor=staff)
    mill.orders.add_comment(order.number, "Customer called back", actor=staff)
    assert probe.event_types(order.number) == ["placed", "cancelled", "comment"]


# ---- dispatch and delivery -------------------------------------------------------------------


def test_dispatch_and_delivery_dates(mill, shop, order_factory, staff, probe, edits):
    order = order_factory([("TICKET", 1)], paid=True)
    shipped = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
    mill.orders.mark_dispatched(order.number, actor=staff, at=shipped, comment="DHL 123")
    mill.orders.mark_delivered(order.number, actor=staff, notify_customer=False)
    stored = probe.order(order.number)
    assert stored.dispatched_at == shipped
    assert stored.delivered_at is not None and stored.delivered_at > shipped
    dispatched, delivered = probe.events(order.number)[-2:]
    assert (dispatched.type, dispatched.message, dispatched.comment,
            dispatched.notify_customer, dispatched.visible_to_customer) == (
        "dispatched", "Marked dispatched on 2024-05-01.", "DHL 123", False, True)
    assert (delivered.type, delivered.notify_customer) == ("delivered", False)
    assert edits.changes[0] == {"dispatched_at": shipped.isoformat()}


def test_dispatch_refusals(mill, shop, order_factory, staff, probe):
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(InvalidInput, match="dispatched date needs a time zone"):
        mill.orders.mark_dispatched(order.number, actor=staff, at=dt.datetime(2024, 5, 1))
    probe.assert_unchanged(before, order.number)
    mill.orders.cancel(order.number, actor=staff)
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="cannot be marked dispatched"):
        mill.orders.mark_dispatched(order.number, actor=staff)
    with pytest.raises(ActionNotAllowed, match="cannot be marked delivered"):
        mill.orders.mark_delivered(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)
