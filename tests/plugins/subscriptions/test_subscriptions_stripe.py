"""Stripe's part of recurring billing, against the local Stripe stand-in: the card is saved at
the first payment of a recurring order (and only then), and `charge_saved` debits it
off-session once per invoice attempt, however often it is called."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.api import ActionNotAllowed, add_renewal_invoice, charge_saved, saved_method
from ordermill.core.app import Ordermill
from ordermill.core.payments import receive_webhook, start_payment
from ordermill.core.specs import Actor
from ordermill.core.statuses import payment_status
from ordermill.testing import order_request
from ordermill.testing_gateways import FakeStripe, stripe_signature


def place(mill: Ordermill, staff: Actor, sku: str) -> str:
    placed = mill.orders.place(order_request([(sku, 1)], payment_method="stripe"), actor=staff)
    assert placed.order is not None
    return placed.order.number


def test_only_recurring_orders_save_the_card(mill: Ordermill, staff: Actor,
                                             make_product: Callable[..., Any],
                                             stripe_fake: FakeStripe) -> None:
    make_product("ONCE", price=1000, stock=None, kind="service")
    make_product("MONTHLY", price=1000, stock=None, kind="service", billing_cycle="monthly")
    once = start_payment(mill, place(mill, staff, "ONCE"), staff)
    monthly = start_payment(mill, place(mill, staff, "MONTHLY"), staff)
    assert stripe_fake.intents[once["payment_intent"]]["setup_future_usage"] is None
    saved = stripe_fake.intents[monthly["payment_intent"]]
    assert saved["setup_future_usage"] == "off_session" and saved["customer"] in \
        stripe_fake.customers


def test_charge_saved_debits_an_invoice_attempt_once(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        stripe_fake: FakeStripe, pay_first: Callable[[str], str]) -> None:
    make_product("MONTHLY", price=1000, stock=None, kind="service", billing_cycle="monthly")
    number = place(mill, staff, "MONTHLY")
    pay_first(number)
    saved = saved_method(mill, "stripe", number)
    assert saved is not None and saved["payment_method"].startswith("pm_")
    with mill.orders.editing(number, actor=staff, action="renewal") as (order, ctx):
        invoice = add_renewal_invoice(order, 1000, "Renewal 2")
        assert ctx.session is not None
        ctx.session.flush()
        invoice_id = invoice.id
    assert payment_status(mill.orders.get(number)) == "partially_paid"  # the renewal is owed
    stripe_fake.debit_fee = 59
    first = charge_saved(mill, number, gateway="stripe", invoice_id=invoice_id, saved=saved,
                         attempt=1)
    assert first.kind == "payment_succeeded" and first.reference
    with pytest.raises(ActionNotAllowed, match=r"asks for nothing|is paid"):
        charge_saved(mill, number, gateway="stripe", invoice_id=invoice_id, saved=saved,
                     attempt=1)  # a retried job after the invoice was paid charges nothing
    order = mill.orders.get(number)
    assert payment_status(order) == "paid"
    renewal = [p for p in order.payments if p.invoice_id == invoice_id]
    assert [(p.amount, p.fee, p.manual) for p in renewal] == [(1000, 59, False)]
    # the webhook Stripe sends for the same debit records nothing twice
    event = stripe_fake.event("payment_intent.succeeded", stripe_fake.intents[first.reference])
    body = json.dumps(event).encode()
    assert receive_webhook(mill, "stripe", body,
                           {"stripe-signature": stripe_signature(body)}).status_code == 200
    assert len(mill.orders.get(number).payments) == 2
    assert len(stripe_fake.debits()) == 1


def test_a_declined_attempt_replays_its_answer_and_charges_nothing(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        stripe_fake: FakeStripe, pay_first: Callable[[str], str]) -> None:
    make_product("MONTHLY", price=1000, stock=None, kind="service", billing_cycle="monthly")
    number = place(mill, staff, "MONTHLY")
    pay_first(number)
    saved = saved_method(mill, "stripe", number)
    assert saved is not None
    with mill.orders.editing(number, actor=staff, action="renewal") as (order, ctx):
        invoice = add_renewal_invoice(order, 1000, "Renewal 2")
        assert ctx.session is not None
        ctx.session.flush()
        invoice_id = invoice.id
    stripe_fake.declining.add(saved["customer"])
    answers = [charge_saved(mill, number, gateway="stripe", invoice_id=invoice_id,
                            saved=saved, attempt=1) for _ in range(2)]
    assert [a.kind for a in answers] == ["payment_failed", "payment_failed"]
    assert "insufficient funds" in answers[0].message
    assert len({call["idempotency_key"] for call in stripe_fake.debits()}) == 1
    stripe_fake.declining.clear()  # the same attempt key still replays the decline
    assert charge_saved(mill, number, gateway="stripe", invoice_id=invoice_id, saved=saved,
                        attempt=1).kind == "payment_failed"
    assert charge_saved(mill, number, gateway="stripe", invoice_id=invoice_id, saved=saved,
                        attempt=2).kind == "payment_succeeded"
    history = [e.type for e in mill.orders.history(number)]
    assert history.count("payment_failed") == 1  # one event per declined attempt
