"""Gateway webhooks and online payment start/capture, over HTTP.

Two blueprints, so each can be registered on its own:

* `webhooks_bp`: POST /api/v1/webhooks/<gateway>. No bearer token: the gateway proves
  itself with its signature, which the gateway plugin checks on the raw body. The view only
  hands bytes and headers to `core.payments.receive_webhook` and returns its status code.
* `payments_bp`: POST /api/v1/orders/<number>/payment-intents (start an online payment, e.g.
  a Stripe PaymentIntent's client secret) and POST /api/v1/orders/<number>/payment-captures
  (finish an approved PayPal order). Authenticated like the rest of the API
  (`web.auth.require_actor`: bearer token or admin session); core errors become the API's
  JSON error shape through the app's error handlers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.web.api import openapi
from ordermill.web.api.guards import access
from ordermill.web.auth import require_actor

webhooks_bp = Blueprint("webhooks", __name__)
payments_bp = Blueprint("payments", __name__)
payments_bp.record_once(openapi.install)  # the `order_number` converter


def _mill() -> Ordermill:
    mill = current_app.extensions.get("ordermill")
    if mill is None:
        raise RuntimeError("the webhooks blueprint needs app.extensions['ordermill']")
    return mill


@webhooks_bp.post("/api/v1/webhooks/<gateway>")
@access("raw")
def receive(gateway: str) -> Any:
    """Verify, store once and apply one gateway event; the status tells the gateway whether
    to resend (5xx) or stop (200, and 400 for a bad signature)."""
    outcome = payments.receive_webhook(_mill(), gateway, request.get_data(),
                                       dict(request.headers.items()))
    response = jsonify(outcome.body)
    response.status_code = outcome.status_code
    return response


@payments_bp.post("/api/v1/orders/<order_number:number>/payment-intents")
def start_payment(number: str) -> Any:
    """Start an online payment for the order's next unpaid invoice (or `invoice_id`)."""
    body = request.get_json(silent=True) or {}
    invoice_id = body.get("invoice_id") if isinstance(body, dict) else None
    if invoice_id is not None and (isinstance(invoice_id, bool)
                                   or not isinstance(invoice_id, int)):
        raise InvalidInput("invoice_id must be an integer.", details={"field": "invoice_id"})
    answer = payments.start_payment(_mill(), number, require_actor(), invoice_id=invoice_id)
    response = jsonify(answer)
    response.status_code = 201
    return response


@payments_bp.post("/api/v1/orders/<order_number:number>/payment-captures")
def capture_payment(number: str) -> Any:
    """Capture a payment the buyer approved at the gateway (PayPal) and record it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object such as {\"paypal_order_id\": \"...\"}.")
    return jsonify(payments.capture_payment(_mill(), number, require_actor(), body))
