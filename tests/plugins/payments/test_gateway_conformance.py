"""The built-in Stripe and PayPal plugins pass the gateway conformance suite
(ordermill.testing.gateway_conformance), driven through the stand-ins of
ordermill.testing_gateways."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time

import pytest

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor
from ordermill.testing import gateway_conformance
from ordermill.testing_gateways import FakePayPal, FakeStripe, stripe_signature

DESK = Actor(kind="user", name="desk@shop.test", role="admin", user_id=None)


class StripeDriver:
    gateway = "stripe"

    def __init__(self, mill: Ordermill, fake: FakeStripe) -> None:
        self.mill, self.fake = mill, fake
        self.intents: dict[str, str] = {}

    def pay(self, order: Order) -> bytes:
        intent = payments.start_payment(self.mill, order.number, DESK)["payment_intent"]
        self.intents[order.number] = intent
        return json.dumps(self.fake.pay(intent, fee=50)).encode()

    def refund_at_service(self, order: Order, amount: int) -> bytes:
        intent = self.intents[order.number]
        self.fake.refund(intent, amount)
        return json.dumps(self.fake.refunded_event(intent)).encode()

    def sign(self, body: bytes) -> dict[str, str]:
        return {"Stripe-Signature": stripe_signature(body)}

    def stale(self, body: bytes) -> dict[str, str]:
        return {"Stripe-Signature": stripe_signature(body, timestamp=int(time.time()) - 3600)}

    def refund_requests(self) -> list[str | None]:
        return [call["idempotency_key"] for call in self.fake.calls
                if (call["method"], call["path"]) == ("POST", "/v1/refunds")]

    def call_count(self) -> int:
        return len(self.fake.calls)

    def outage(self) -> contextlib.AbstractContextManager[None]:
        return gateway_conformance.flag(self.fake, "down")


class PayPalDriver:
    gateway = "paypal"

    def __init__(self, mill: Ordermill, fake: FakePayPal) -> None:
        self.mill, self.fake = mill, fake
        self.captures: dict[str, str] = {}

    def pay(self, order: Order) -> bytes:
        started = payments.start_payment(self.mill, order.number, DESK)
        self.fake.approve(started["paypal_order_id"], fee=70)
        _status, answer = self.fake.capture(started["paypal_order_id"])
        capture = answer["purchase_units"][0]["payments"]["captures"][0]["id"]
        self.captures[order.number] = capture
        return json.dumps(self.fake.capture_event(capture)).encode()

    def refund_at_service(self, order: Order, amount: int) -> bytes:
        refund = self.fake.refund(self.captures[order.number], amount)
        assert refund is not None
        return json.dumps(self.fake.refund_event(refund["id"])).encode()

    def sign(self, body: bytes) -> dict[str, str]:
        return self.fake.sign(json.loads(body))

    def stale(self, body: bytes) -> dict[str, str]:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        return self.fake.sign(json.loads(body), when=old)

    def refund_requests(self) -> list[str | None]:
        return [call["request_id"] for call in self.fake.calls
                if call["method"] == "POST" and call["path"].endswith("/refund")]

    def call_count(self) -> int:
        return len(self.fake.calls)

    def outage(self) -> contextlib.AbstractContextManager[None]:
        return gateway_conformance.flag(self.fake, "down")


class TestStripeConforms(gateway_conformance.GatewayConformance):
    @pytest.fixture
    def gateway_driver(self, mill: Ordermill, stripe_fake: FakeStripe) -> StripeDriver:
        return StripeDriver(mill, stripe_fake)


class TestPayPalConforms(gateway_conformance.GatewayConformance):
    @pytest.fixture
    def gateway_driver(self, mill: Ordermill, paypal_fake: FakePayPal) -> PayPalDriver:
        return PayPalDriver(mill, paypal_fake)
