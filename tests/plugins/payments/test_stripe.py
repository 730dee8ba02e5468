"""The Stripe plugin through the real stripe SDK against a local Stripe stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.models import GatewayEvent, Order, OrderEvent, Payment
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, money_totals, payment_status
from ordermill.testing_gateways import FakeStripe, count, order_state


@pytest.fixture
def tickets(make_product: Callable[..., Any]) -> None:
    make_product("CONCERT", price=1000, stock=50, kind="ticket")
    make_product("VIP", price=2000, stock=10, kind="ticket")


def start(mill: Ordermill, number: str, staff: Actor, **kwargs: Any) -> dict[str, Any]:
    return payments.start_payment(mill, number, staff, **kwargs)


def test_payment_intent_in_minor_units_with_metadata_and_invoice_idempotency_key(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, stripe_fake: FakeStripe) -> None:
    order = order_factory([("CONCERT", 2), ("VIP", 1)], payment_method="stripe")
    invoice = order.invoices[0]
    response = client.post(f"/api/v1/orders/{order.number}/payment-intents",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    intent = stripe_fake.intents[body["payment_intent"]]
    assert body["client_secret"] == intent["client_secret"]
    assert (body["amount"], body["currency"], body["invoice_id"]) == ("40.00", "EUR", invoice.id)
    assert (intent["amount"], intent["currency"]) == (4000, "eur")
    assert intent["metadata"] == {"order_number": order.number, "invoice_id": str(invoice.id)}
    call = stripe_fake.calls[-1]
    assert call["idempotency_key"] == f"ordermill-invoice-{invoice.id}-4000"
    again = client.post(f"/api/v1/orders/{order.number}/payment-intents",
                        headers={"Authorization": f"Bearer {token}"})
    assert again.get_json()["payment_intent"] == body["payment_intent"]  # a retry, no new one
    assert len(stripe_fake.intents) == 1


def test_payment_intents_need_a_token_and_an_online_gateway(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    anonymous = client.post(f"/api/v1/orders/{order.number}/payment-intents")
    assert anonymous.status_code == 401
    offline = order_factory([("CONCERT", 1)], payment_method="banktransfer")
    refused = client.post(f"/api/v1/orders/{offline.number}/payment-intents",
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 409
    assert "takes no online payment" in refused.get_json()["error"]["message"]


def test_signed_payment_webhook_records_the_charge_with_fee_and_net(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 3)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    event = stripe_fake.pay(intent, fee=67, one_click=True)
    response = post_stripe(event)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == f"payment {intent} recorded"
    order = mill.orders.get(order.number)
    [charge] = order.payments
    assert (charge.kind, charge.gateway, charge.gateway_reference) == ("charge", "stripe", intent)
    assert (charge.amount, charge.fee, charge.net, charge.manual, charge.one_click) == \
        (3000, 67, 2933, False, True)
    assert charge.invoice_id == order.invoices[0].id
    assert payment_status(order) == "paid" and order.invoices[0].status == "paid"
    assert order.status == "pending"  # paid, still waiting for the admin (WHMCS)
    before = order_state(mill, order.number)
    replay = post_stripe(event)
    assert replay.status_code == 200 and replay.get_json()["replay"] is True
    assert order_state(mill, order.number) == before
    assert count(mill, GatewayEvent) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "tampered body", "no header",
                                     "garbage header", "future v0 only"])
def test_bad_or_stale_signature_is_400_and_changes_nothing(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any], forgery: str) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    event = stripe_fake.pay(intent, fee=30)
    payload = json.dumps(event).encode()
    if forgery == "wrong secret":
        response = post_stripe(event, secret="whsec_someone_else")
    elif forgery == "stale":
        response = post_stripe(event, timestamp=int(time.time()) - 301)
    elif forgery == "tampered body":
        from ordermill.testing_gateways import stripe_signature
        signature = stripe_signature(payload)
        event["data"]["object"]["amount_received"] = 1
        response = post_stripe(event, signature=signature)
    elif forgery == "no header":
        response = post_stripe(event, signature="")
    elif forgery == "garbage header":
        response = post_stripe(event, signature="t=abc,v1=")
    else:
        response = post_stripe(event, signature=f"t={int(time.time())},v0=deadbeef")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "webhook_rejected"
    order = mill.orders.get(order.number)
    assert order.payments == [] and payment_status(order) == "unpaid"
    assert count(mill, GatewayEvent) == 0
    assert [e.type for e in mill.orders.history(order.number)] == ["placed"]


def test_a_good_signature_among_several_is_accepted(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    """During a secret roll Stripe signs with both secrets: one v1 matching is enough."""
    from ordermill.testing_gateways import stripe_signature
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    event = stripe_fake.pay(start(mill, order.number, staff)["payment_intent"], fee=30)
    payload = json.dumps(event).encode()
    good = stripe_signature(payload)
    old = stripe_signature(payload, secret="whsec_old").split(",")[1]
    assert post_stripe(event, signature=f"{good},{old}").status_code == 200
    assert payment_status(mill.orders.get(order.number)) == "paid"


def test_partial_refund_of_one_line_through_stripe(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    assert post_stripe(stripe_fake.pay(intent, fee=117)).status_code == 200
    concert = next(line for line in order.lines if line.sku == "CONCERT")
    result = mill.orders.refund(order.number, actor=staff, line_ids=[concert.id])
    assert result.preview["refunds"][0]["automatic"] is True
    call = stripe_fake.calls[-1]
    assert (call["path"], call["params"]["amount"], call["params"]["payment_intent"]) == \
        ("/v1/refunds", "1000", intent)
    order = mill.orders.get(order.number)
    charge, refund = order.payments
    assert call["idempotency_key"] == f"ordermill-refund-{refund.id}"
    assert (refund.kind, refund.status, refund.amount, refund.fee, refund.net, refund.manual) \
        == ("refund", "succeeded", 1000, 0, 1000, False)
    assert refund.gateway_reference in stripe_fake.refunds
    assert refund.refund_of_id == charge.id
    assert (charge.amount, charge.fee, charge.net) == (3000, 117, 2883)  # Stripe keeps its fee
    assert payment_status(order) == "partially_refunded"
    assert (money_totals(order).captured, money_totals(order).refunded) == (3000, 1000)
    assert line_summary(order) == "1/2 Complete"
    assert [(line.sku, line.status, line.refunded_amount) for line in order.lines] == \
        [("CONCERT", "refunded", 1000), ("VIP", "active", 0)]
    before = order_state(mill, order.number)
    # Stripe then reports the refund it made for us: nothing is recorded twice
    response = post_stripe(stripe_fake.refunded_event(intent))
    assert response.status_code == 200
    assert "already recorded" in response.get_json()["outcome"]
    assert order_state(mill, order.number) == {**before, "gateway_events": 2}
    # a full refund of the rest goes through Stripe too and ends refunded
    mill.orders.refund(order.number, actor=staff)
    order = mill.orders.get(order.number)
    assert payment_status(order) == "refunded" and order.status == "refunded"
    assert stripe_fake.charges[stripe_fake.intents[intent]["latest_charge"]]["refunded"]


def test_refund_webhook_reconciles_a_refund_whose_commit_failed(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any],
        register_plugin: Callable[..., Any]) -> None:
    """Stripe refunded, then our transaction rolled back: the webhook records the refund
    once, with Stripe's refund id, and no second refund is made."""

    class CrashOnce:
        crashed = False

        @hookimpl
        def jobs_for_event(self, order: Order, event: OrderEvent) -> None:
            if event.type == "refunded" and not self.crashed:
                self.crashed = True
                raise RuntimeError("database went away")

    order = order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    post_stripe(stripe_fake.pay(intent, fee=117))
    register_plugin(CrashOnce(), name="crash-once")
    with pytest.raises(Exception, match="database went away"):
        mill.orders.refund(order.number, actor=staff, amount=500)
    [made] = stripe_fake.refunds.values()  # money left Stripe...
    order = mill.orders.get(order.number)
    assert [p.kind for p in order.payments] == ["charge"]  # ...but our commit was lost
    response = post_stripe(stripe_fake.refunded_event(intent))
    assert response.status_code == 200, response.get_json()
    order = mill.orders.get(order.number)
    charge, refund = order.payments
    assert (refund.kind, refund.amount, refund.gateway_reference, refund.refund_of_id,
            refund.manual) == ("refund", 500, made["id"], charge.id, False)
    assert payment_status(order) == "partially_refunded"
    assert len(stripe_fake.refunds) == 1
    # the refund event is in the history, as the customer-facing record of the refund
    assert [e.type for e in mill.orders.history(order.number)][-1] == "refunded"


def test_refund_made_in_the_dashboard_is_recorded(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 2)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    post_stripe(stripe_fake.pay(intent, fee=60))
    stripe_fake.refund(intent, 700)
    stripe_fake.refund(intent, 300)
    assert post_stripe(stripe_fake.refunded_event(intent)).status_code == 200
    order = mill.orders.get(order.number)
    assert sorted(p.amount for p in order.payments if p.kind == "refund") == [300, 700]
    assert payment_status(order) == "partially_refunded"
    assert [line.status for line in order.lines] == ["active"]  # an amount names no line


def story(stripe_fake: FakeStripe, mill: Ordermill, number: str, staff: Actor
          ) -> list[dict[str, Any]]:
    """Every webhook of one order's life: a declined attempt, the payment, a dashboard
    refund and a dispute."""
    intent = start(mill, number, staff)["payment_intent"]
    declined = stripe_fake.decline(intent)
    paid = stripe_fake.pay(intent, fee=117)
    stripe_fake.refund(intent, 1000)
    return [declined, paid, stripe_fake.refunded_event(intent),
            stripe_fake.dispute_event(intent)]


def test_replayed_and_reversed_webhooks_end_as_one_delivery(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    orders = [order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="stripe")
              for _ in range(3)]
    once, reversed_twice, all_twice = (story(stripe_fake, mill, o.number, staff)
                                       for o in orders)
    for event in once:
        assert post_stripe(event).status_code == 200
    for event in reversed(reversed_twice):
        assert post_stripe(event).status_code == 200
        assert post_stripe(event).status_code == 200
    for event in all_twice + all_twice:
        assert post_stripe(event).status_code == 200
    expected = order_state(mill, orders[0].number)
    assert order_state(mill, orders[1].number) == expected
    assert order_state(mill, orders[2].number) == expected
    assert expected["payment_status"] == "partially_refunded"
    assert expected["gateway_events"] == 4 and expected["unapplied"] == 0
    assert sorted(t for t, _a, _m in expected["events"]) == \
        ["dispute", "payment", "payment_failed", "placed", "refunded"]
    assert "dispute" in expected["needs_attention"]
    assert [(p[0], p[2], p[3], p[4]) for p in expected["payments"]] == \
        [("charge", 3000, 117, 2883), ("refund", 1000, 0, 1000)]


def test_three_invoices_paid_one_by_one_end_paid(
        mill: Ordermill, make_product: Callable[..., Any], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    """Seed 003's partial payment: an order with three invoices, each paid on its own."""
    from ordermill.testing import order_request
    make_product("COURSE", price=9000, stock=None, kind="service")
    placed = mill.orders.place(order_request([("COURSE", 1)], payment_method="stripe",
                                             invoice_plan=[3000, 3000, 3000]), actor=staff)
    assert placed.order is not None
    number = placed.order.number
    statuses = []
    for index in range(3):
        answer = start(mill, number, staff)
        intent = stripe_fake.intents[answer["payment_intent"]]
        assert intent["amount"] == 3000
        assert intent["metadata"]["invoice_id"] == str(answer["invoice_id"])
        post_stripe(stripe_fake.pay(intent["id"], fee=90 + index, one_click=index == 2))
        statuses.append(payment_status(mill.orders.get(number)))
    assert statuses == ["partially_paid", "partially_paid", "paid"]
    order = mill.orders.get(number)
    assert [inv.status for inv in order.invoices] == ["paid", "paid", "paid"]
    rows = [(p.invoice_id, p.amount, p.fee, p.net, p.one_click) for p in order.payments]
    assert rows == [(order.invoices[0].id, 3000, 90, 2910, False),
                    (order.invoices[1].id, 3000, 91, 2909, False),
                    (order.invoices[2].id, 3000, 92, 2908, True)]
    with pytest.raises(Exception, match="nothing left to pay"):
        start(mill, number, staff)


def test_failed_payment_is_history_and_the_order_stays_unpaid(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    assert post_stripe(stripe_fake.decline(intent, "Insufficient funds.")).status_code == 200
    order = mill.orders.get(order.number)
    assert payment_status(order) == "unpaid" and order.needs_attention is None
    last = mill.orders.history(order.number)[-1]
    assert last.type == "payment_failed" and "Insufficient funds" in last.message
    assert last.actor == "system:gateway:stripe"


def test_payment_for_a_cancelled_order_is_recorded_and_flagged(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    mill.orders.cancel(order.number, actor=staff)
    assert post_stripe(stripe_fake.pay(intent, fee=30)).status_code == 200
    order = mill.orders.get(order.number)
    assert [p.amount for p in order.payments] == [1000]
    assert "received while the order is Cancelled" in (order.needs_attention or "")
    assert mill.orders.history(order.number)[-1].type == "payment_flagged"


def test_event_for_an_unknown_order_is_stored_and_answered(
        mill: Ordermill, stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    intent = stripe_fake.create_intent({"amount": "1500", "currency": "eur",
                                        "metadata": {"order_number": "0000000001"}})
    response = post_stripe(stripe_fake.pay(intent["id"], fee=40))
    assert response.status_code == 200
    assert "unknown order 0000000001" in response.get_json()["outcome"]
    with mill.read_session() as session:
        stored = session.query(GatewayEvent).one()
    assert (stored.gateway, stored.type, stored.order_number) == \
        ("stripe", "payment_intent.succeeded", "0000000001")
    assert stored.payload["data"]["object"]["id"] == intent["id"]
    assert count(mill, Payment) == 0


def test_unhandled_event_types_are_stored_and_ignored(
        mill: Ordermill, stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    response = post_stripe(stripe_fake.event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored: customer.created"


def test_stripe_down_while_reading_the_charge_asks_for_a_resend(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe, post_stripe: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    event = stripe_fake.pay(intent, fee=30)
    charge = stripe_fake.charges.pop(stripe_fake.intents[intent]["latest_charge"])
    response = post_stripe(event)
    assert response.status_code == 502  # Stripe resends; nothing stored
    assert count(mill, GatewayEvent) == 0
    stripe_fake.charges[charge["id"]] = charge
    assert post_stripe(event).status_code == 200
    assert payment_status(mill.orders.get(order.number)) == "paid"


def test_unknown_gateway_webhook_is_404(client: Any) -> None:
    response = client.post("/api/v1/webhooks/nosuchpay", data=b"{}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_gateway"


@pytest.mark.commits  # deliveries on several threads
def test_concurrent_deliveries_of_one_event_record_one_payment(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        stripe_fake: FakeStripe) -> None:
    """Stripe may deliver the same event on several connections at once."""
    from concurrent.futures import ThreadPoolExecutor

    from ordermill.testing_gateways import stripe_signature

    order = order_factory([("CONCERT", 1)], payment_method="stripe")
    intent = start(mill, order.number, staff)["payment_intent"]
    payload = json.dumps(stripe_fake.pay(intent, fee=30)).encode()

    def deliver(_: int) -> int:
        headers = {"Stripe-Signature": stripe_signature(payload)}
        return payments.receive_webhook(mill, "stripe", payload, headers).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(deliver, range(4)))
    assert codes == [200, 200, 200, 200]
    order = mill.orders.get(order.number)
    assert [p.amount for p in order.payments] == [1000]
    assert [e.type for e in mill.orders.history(order.number)].count("payment") == 1
    assert count(mill, GatewayEvent) == 1
