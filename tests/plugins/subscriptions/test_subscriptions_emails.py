"""The subscriptions plugin's e-mails (renewal invoice, payment failed, subscription
suspended) go through notify_email's templates, over real SMTP, by notify_email's hook
`register_email_messages`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.plugins.subscriptions import engine
from ordermill.plugins.subscriptions.models import Subscription
from ordermill.testing import order_request
from ordermill.testing_gateways import FakeStripe, fake_gateway_settings


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer, smtp: SmtpSink) -> dict[str, Any]:
    plugins: dict[str, Any] = fake_gateway_settings(httpserver.url_for("/").rstrip("/"))
    plugins["notify_email"] = {"host": "127.0.0.1", "port": smtp.port, "timeout": 5,
                               "from_address": "orders@shop.test", "base_url": "https://shop.test"}
    return {"plugins": plugins, "shop_name": "Test Shop"}


def decline_then_suspend(mill: Ordermill, sub: Subscription, staff: Actor,
                         stripe_fake: FakeStripe, clock: Any) -> None:
    """The card declines at the renewal, staff suspend the subscription, and the outbox sends
    what follows: the renewal invoice, payment failed and suspended messages."""
    stripe_fake.declining.add(sub.saved_method["customer"])
    clock.move_to(sub.next_due_at)
    mill.outbox.run_until_empty(worker_id="w")
    engine.act(mill, sub.id, "suspend", actor=staff)
    clock.move_to(sub.next_due_at + dt.timedelta(minutes=1))
    mill.outbox.run_until_empty(worker_id="w")


def test_hook_register_email_messages(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str], smtp: SmtpSink) -> None:
    """The subscriptions plugin's renewal invoice, payment failed and suspended mails."""
    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    placed = mill.orders.place(order_request([("VPS", 1)], payment_method="stripe"),
                               actor=staff)
    assert placed.order is not None
    number = placed.order.number
    pay_first(number)
    with mill.read_session() as session:
        sub = session.scalar(select(Subscription).where(Subscription.order_number == number))
    assert sub is not None and sub.next_due_at is not None
    decline_then_suspend(mill, sub, staff, stripe_fake, clock)
    mails = {m["X-Ordermill-Template"]: m for m in smtp.messages}
    assert {"renewal_invoice", "subscription_payment_failed",
            "subscription_suspended"} <= set(mails)
    renewal = mails["renewal_invoice"]
    assert renewal["Subject"] == f"New invoice for order {number}"
    text = renewal.get_body(("plain",)).get_content()
    assert "debited from your saved payment method" in text and "25.00" in text
    failed = mails["subscription_payment_failed"].get_body(("plain",)).get_content()
    assert "We will try again automatically" in failed
    assert mails["subscription_suspended"]["Subject"] == \
        f"Subscription suspended for order {number}"
