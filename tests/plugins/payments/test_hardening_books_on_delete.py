"""Issue 10 item 18: deleting a fully refunded Stripe order keeps its money records.

The charge (with the fee Stripe kept) and the refund survive the order, detached from it
(order_id NULL) under its number, so the books still balance; the order itself is gone from
every list and lookup. Through the real stripe SDK against the local Stripe stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core import payments, queries
from ordermill.core.app import Ordermill
from ordermill.core.errors import OrderNotFound
from ordermill.core.models import Invoice, Order, Payment
from ordermill.core.specs import Actor
from ordermill.testing_gateways import FakeStripe


@pytest.fixture
def tickets(make_product: Callable[..., Any]) -> None:
    make_product("CONCERT", price=1000, stock=50, kind="ticket")


def books(mill: Ordermill) -> tuple[int, int, int]:
    """(charged, refunded, fees) over every payment row of the shop."""
    with mill.read_session() as session:
        rows = session.execute(select(Payment.kind, func.sum(Payment.amount),
                                      func.sum(Payment.fee)).group_by(Payment.kind)).all()
    sums = {kind: (int(amount), int(fee)) for kind, amount, fee in rows}
    charged, charge_fees = sums.get("charge", (0, 0))
    refunded, refund_fees = sums.get("refund", (0, 0))
    return charged, refunded, charge_fees + refund_fees


def test_deleting_a_refunded_stripe_order_keeps_its_payments_and_fee(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any], client: Any,
        token: str) -> None:
    order = order_factory([("CONCERT", 3)], payment_method="stripe")
    intent = payments.start_payment(mill, order.number, staff)["payment_intent"]
    assert post_stripe(stripe_fake.pay(intent, fee=117)).status_code == 200
    mill.orders.refund(order.number, actor=staff)  # through Stripe; Stripe keeps its fee
    refunded = mill.orders.get(order.number)
    assert refunded.status == "refunded"
    before = books(mill)
    assert before == (3000, 3000, 117)
    ids = sorted(p.id for p in refunded.payments)
    invoice_ids = sorted(i.id for i in refunded.invoices)

    result = mill.orders.delete(order.number, actor=staff, restock=True)

    assert books(mill) == before  # the fee Stripe kept is still in the books
    with mill.read_session() as session:
        kept = session.scalars(select(Payment).order_by(Payment.id)).all()
        invoices = session.scalars(select(Invoice).order_by(Invoice.id)).all()
    assert [p.id for p in kept] == ids
    assert {(p.order_id, p.order_number) for p in kept} == {(None, order.number)}
    assert [i.id for i in invoices] == invoice_ids
    assert {(i.order_id, i.order_number) for i in invoices} == {(None, order.number)}
    assert result.event.data["kept_payments"] == ids
    assert "its 2 payments stay in the books" in result.event.message
    # the order is invisible: no lookup, no list, no search finds it
    with pytest.raises(OrderNotFound):
        mill.orders.get(order.number)
    assert queries.search_orders(mill, queries.OrderFilters(), actor=staff).total == 0
    # ...but the payments list and export still show its money under its number
    listed = queries.list_payments(mill, queries.PaymentFilters(order_number=order.number),
                                   actor=staff)
    assert listed.total == 2
    assert {row["order_number"] for row in listed.items} == {order.number}
    assert sorted((row["kind"], row["fee"]) for row in listed.items) == [
        ("charge", "1.17"), ("refund", "0.00")]
    exported = list(queries.export_payments(mill, actor=staff))
    assert [row["order_number"] for row in exported] == [order.number, order.number]
    # and through HTTP the order is a 404 while its history keeps the deletion
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/orders/{order.number}", headers=headers).status_code == 404
    listing = client.get("/api/v1/orders", headers=headers).get_json()
    assert all(row["number"] != order.number for row in listing["orders"])
