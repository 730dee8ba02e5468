"""Issue 14, acceptance 3: refunding 1 of 3 tickets of a Stripe order refunds exactly one
ticket's price through the Stripe SDK, voids exactly one ticket, returns one unit to stock,
and its dry run answers exactly what the real call does; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, money_totals, payment_status
from ordermill.plugins.provisioning import tickets_of
from ordermill.testing_gateways import FakeStripe


@pytest.fixture
def gigs(make_product: Callable[..., Any]) -> None:
    make_product("GIG", name="Jazz night", price=3000, stock=20, kind="ticket")
    make_product("VIP", name="VIP pass", price=9000, stock=10, kind="ticket")


def stock(mill: Ordermill, sku: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def paid_by_stripe(mill: Ordermill, order: Order, staff: Actor, stripe_fake: FakeStripe,
                   post_stripe: Callable[..., Any]) -> str:
    intent = payments.start_payment(mill, order.number, staff)["payment_intent"]
    assert post_stripe(stripe_fake.pay(intent, fee=117)).status_code == 200
    return str(intent)


def refund_calls(stripe_fake: FakeStripe) -> list[dict[str, Any]]:
    return [call for call in stripe_fake.calls if call["path"] == "/v1/refunds"]


def test_refund_one_of_three_tickets_through_stripe_voids_one_restocks_one(
        mill: Ordermill, gigs: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any], client: FlaskClient,
        tokens: dict[str, str]) -> None:
    order = order_factory([("GIG", 3), ("VIP", 1)], payment_method="stripe")
    intent = paid_by_stripe(mill, order, staff, stripe_fake, post_stripe)
    assert [t.status for t in tickets_of(mill, order.number)] == ["valid"] * 4
    gig = next(line for line in order.lines if line.sku == "GIG")
    stock_before = stock(mill, "GIG")
    headers = {"Authorization": f"Bearer {tokens['manager']}"}
    body = {"lines": [{"id": gig.id, "quantity": 1}], "comment": "One guest cannot come"}
    url = f"/api/v1/orders/{order.number}/refund"

    dry = client.post(url + "?dry_run=true", json=body, headers=headers)
    assert dry.status_code == 200, dry.get_json()
    assert refund_calls(stripe_fake) == []  # a dry run never asks Stripe
    assert stock(mill, "GIG") == stock_before
    assert [t.status for t in tickets_of(mill, order.number)] == ["valid"] * 4

    real = client.post(url, json=body, headers=headers)
    assert real.status_code == 200, real.get_json()
    preview = real.get_json()["preview"]
    assert dry.get_json()["preview"] == preview
    assert preview["amount_refunded"] == "30.00"
    assert preview["stock_released"] == {"GIG": 1}
    assert preview["summary"] == {"from": "Complete", "to": "3/4 Complete"}
    assert preview["data"]["lines"] == [{"id": gig.id, "quantity": 1}]

    # Stripe was asked once, for exactly one ticket's price
    [call] = refund_calls(stripe_fake)
    assert (call["params"]["amount"], call["params"]["payment_intent"]) == ("3000", intent)
    order = mill.orders.get(order.number)
    assert (money_totals(order).captured, money_totals(order).refunded) == (18000, 3000)
    assert payment_status(order) == "partially_refunded"
    assert line_summary(order) == "3/4 Complete"
    # the ticket line keeps its id with 2 units; the refunded one is a line of its own
    assert [(line.sku, line.quantity, line.status, line.total, line.refunded_amount,
             line.parent_line_id) for line in order.lines] == [
        ("GIG", 2, "active", 6000, 0, None), ("VIP", 1, "active", 9000, 0, None),
        ("GIG", 1, "refunded", 3000, 3000, gig.id)]
    # exactly one ticket voided (the newest unused), one unit back on sale
    tickets = tickets_of(mill, order.number)
    assert [(t.line_id, t.unit, t.status) for t in tickets if t.status == "void"] == [
        (gig.id, 3, "void")]
    assert sum(t.status == "valid" for t in tickets) == 3
    assert stock(mill, "GIG") == stock_before + 1  # type: ignore[operator]
    event = mill.orders.history(order.number)[-1]
    assert event.type == "refunded" and event.comment == "One guest cannot come"
    assert [note["command"] for note in event.data["provisioning"]] == ["reduce"]


def test_refunding_the_rest_unit_by_unit_adds_up_to_the_line_and_ends_refunded(
        mill: Ordermill, gigs: None, order_factory: Callable[..., Order], staff: Actor,
        make_promo: Callable[..., Any], stripe_fake: FakeStripe,
        post_stripe: Callable[..., Any]) -> None:
    """With a promo the units' shares are not whole cents: each refund rounds down and the
    last unit carries the remainder, so the refunds add up to the line total exactly."""
    make_promo("TENOFF", kind="fixed", value=1001, currency="EUR")
    order = order_factory([("GIG", 3)], payment_method="stripe", promo_code="TENOFF")
    gig = order.lines[0]
    assert gig.total == 7999  # 90.00 - 10.01
    paid_by_stripe(mill, order, staff, stripe_fake, post_stripe)
    for _ in range(3):
        mill.orders.refund(order.number, actor=staff, lines={gig.id: 1})
    amounts = [int(call["params"]["amount"]) for call in refund_calls(stripe_fake)]
    assert amounts == [2666, 2666, 2667]  # 7999 * 1 // 3, then 5333 * 1 // 2, then the rest
    order = mill.orders.get(order.number)
    assert sum(amounts) == 7999 and order.status == "refunded"
    assert payment_status(order) == "refunded" and line_summary(order) == "Refunded"
    assert all(t.status == "void" for t in tickets_of(mill, order.number))
