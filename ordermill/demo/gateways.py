"""The demo's Stripe and PayPal: the real SDKs talking to local stand-ins in the same process.

The demo shop has card and PayPal orders; refunding one in the admin calls the gateway. With
no account configured that failed, so `ordermill serve --demo` (and only it) mounts the
stand-ins the tests use (ordermill.testing_gateways: FakeStripe, FakePayPal, which speak the
vendors' wire format) under /demo/stripe/ and /demo/paypal/, and points the built-in Stripe
and PayPal plugins at them through the settings (`demo_gateway_settings`). The plugins run
unchanged, through the vendors' SDKs.

The demo's orders were paid when it was loaded (recorded as the gateway would, with a
reference), before any stand-in ran; so before each call the stand-ins learn the charges in
the database they do not know yet (`seed`), and a refund of a demo card order finds its
payment.
The stand-ins keep what happens in memory: a restarted demo learns the charges again.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from werkzeug import Request

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Payment
from ordermill.testing_gateways import (
    PAYPAL_CLIENT,
    PAYPAL_WEBHOOK_ID,
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    FakePayPal,
    FakeStripe,
    _major,
)

STRIPE_PATH = "/demo/stripe"
PAYPAL_PATH = "/demo/paypal"
EXTENSION = "ordermill_demo_gateways"


def demo_gateway_settings(plugins: dict[str, dict[str, Any]], base_url: str) -> None:
    """Point the Stripe and PayPal plugins at the stand-ins on `base_url`, in `plugins` (the
    Settings' plugin configuration, changed in place), unless an account is configured."""
    stripe = dict(plugins.get("payment_stripe") or {})
    if not stripe.get("secret_key"):
        plugins["payment_stripe"] = {
            **stripe, "secret_key": STRIPE_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET,
            "api_base": f"{base_url}{STRIPE_PATH}", "max_network_retries": 0}
    paypal = dict(plugins.get("payment_paypal") or {})
    if not (paypal.get("client_id") and paypal.get("client_secret")):
        plugins["payment_paypal"] = {
            **paypal, "client_id": PAYPAL_CLIENT[0], "client_secret": PAYPAL_CLIENT[1],
            "webhook_id": PAYPAL_WEBHOOK_ID, "api_base": f"{base_url}{PAYPAL_PATH}"}


class DemoGateways:
    """One app's stand-ins, taught the demo's charges on first use."""

    def __init__(self, mill: Ordermill, base_url: str) -> None:
        self.mill = mill
        self.stripe = FakeStripe()
        self.paypal = FakePayPal(f"{base_url}{PAYPAL_PATH}")
        self._lock = threading.Lock()

    def seed(self) -> None:
        """Every Stripe and PayPal charge in the database the stand-ins do not know yet (the
        demo's, and any recorded by hand since), as the stand-in would hold it."""
        with self._lock:
            with self.mill.read_session() as session:
                numbers = dict(session.execute(select(Order.id, Order.number)).tuples().all())
                payments = list(session.scalars(select(Payment).where(
                    Payment.gateway.in_(("stripe", "paypal"))).order_by(Payment.id)))
            refunded: dict[int, int] = {}
            for payment in payments:
                if payment.kind != "charge" and payment.refund_of_id is not None:
                    refunded[payment.refund_of_id] = \
                        refunded.get(payment.refund_of_id, 0) + abs(payment.amount)
            for payment in payments:
                known = self.stripe.intents if payment.gateway == "stripe" \
                    else self.paypal.captures
                if payment.kind != "charge" or not payment.gateway_reference \
                        or payment.gateway_reference in known:
                    continue
                number = payment.order_number or numbers.get(payment.order_id or 0) or ""
                if payment.gateway == "stripe":
                    self._stripe_charge(payment, number, refunded.get(payment.id, 0))
                else:
                    self._paypal_capture(payment, number, refunded.get(payment.id, 0))

    def _stripe_charge(self, payment: Payment, number: str, refunded: int) -> None:
        intent_id = str(payment.gateway_reference)
        charge_id, currency = self.stripe.new_id("ch"), payment.currency.lower()
        metadata = {"order_number": number}
        self.stripe.charges[charge_id] = {
            "id": charge_id, "object": "charge", "amount": payment.amount,
            "amount_captured": payment.amount, "amount_refunded": min(refunded, payment.amount),
            "refunded": refunded >= payment.amount, "captured": True, "paid": True,
            "currency": currency, "payment_intent": intent_id, "metadata": metadata,
            "balance_transaction": None, "status": "succeeded",
            "payment_method_details": {"type": "card", "card": {
                "brand": "visa", "last4": "4242", "wallet": None}}}
        self.stripe.intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": payment.amount,
            "amount_received": payment.amount, "currency": currency, "metadata": metadata,
            "description": f"Order {number}", "status": "succeeded",
            "latest_charge": charge_id, "client_secret": f"{intent_id}_secret_demo",
            "last_payment_error": None, "livemode": False}

    def _paypal_capture(self, payment: Payment, number: str, refunded: int) -> None:
        capture_id = str(payment.gateway_reference)
        amount = _major(payment.amount, payment.currency)
        self.paypal.captures[capture_id] = {
            "id": capture_id, "status": "COMPLETED", "amount": amount,
            "custom_id": number, "invoice_id": None, "final_capture": True,
            "seller_receivable_breakdown": {
                "gross_amount": amount, "paypal_fee": _major(payment.fee, payment.currency),
                "net_amount": _major(payment.amount - payment.fee, payment.currency)},
            "links": []}
        if refunded:
            self.paypal.refund(capture_id, min(refunded, payment.amount))


def _gateways() -> DemoGateways:
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        mill = current_app.extensions["ordermill"]
        base = request.host_url.rstrip("/")
        found = current_app.extensions.setdefault(EXTENSION, DemoGateways(mill, base))
    assert isinstance(found, DemoGateways)
    found.seed()
    return found


def _forward(prefix: str, rest: str) -> Request:
    """This request as the stand-in expects it: its path without the demo's prefix."""
    environ = dict(request.environ)
    environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
    environ["PATH_INFO"] = f"/{rest}"
    return Request(environ)


demo_gateways = Blueprint("demo_gateways", __name__)
METHODS = ["GET", "POST", "DELETE"]


@demo_gateways.route(f"{STRIPE_PATH}/<path:rest>", methods=METHODS)
def stripe_api(rest: str) -> Response:
    return _gateways().stripe.handle(_forward(STRIPE_PATH, rest))


@demo_gateways.route(f"{PAYPAL_PATH}/<path:rest>", methods=METHODS)
def paypal_api(rest: str) -> Response:
    return _gateways().paypal.handle(_forward(PAYPAL_PATH, rest))


__all__ = ["PAYPAL_PATH", "STRIPE_PATH", "DemoGateways", "demo_gateway_settings",
           "demo_gateways"]
