"""Gateway webhooks and online payment start/capture, over HTTP.

Two blueprints, so each can be registered on its own:

* `webhooks_bp`: POST /api/v1/webhooks/<gateway>. No bearer token: the gateway proves
  itself with its signature, which the gateway plugin checks on the raw body. The view only
  hands bytes and headers to `core.payments.receive_webhook` and returns its status code.
* `payments_bp`: POST /api/v1/orders/<number>/payment-intents (start an online payment, e.g.
  a Stripe PaymentIntent's client secret) and POST /api/v1/orders/<number>/payment-captures
  (finish an approved PayPal order). Bearer token auth, as the rest of the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError, PermissionDenied
from ordermill.core.specs import Actor
from ordermill.core.staff import actor_for_token

webhooks_bp = Blueprint("webhooks", __name__)
payments_bp = Blueprint("payments", __name__)


def _mill() -> Ordermill:
    mill = current_app.extensions.get("ordermill")
    if mill is None:
        raise RuntimeError("the webhooks blueprint needs app.extensions['ordermill']")
    return mill


def _error(error: OrdermillError) -> Response:
    response = jsonify({"error": error.to_dict()})
    response.status_code = error.http_status
    return response


@webhooks_bp.post("/api/v1/webhooks/<gateway>")
def receive(gateway: str) -> Any:
    """Verify, store once and apply one gateway event; the status tells the gateway whether
    to resend (5xx) or stop (200, and 400 for a bad signature)."""
    outcome = payments.receive_webhook(_mill(), gateway, request.get_data(),
                                       dict(request.headers.items()))
    response = jsonify(outcome.body)
    response.status_code = outcome.status_code
    return response


class _Unauthenticated(OrdermillError):
    code = "unauthenticated"
    http_status = 401


def _actor(mill: Ordermill) -> Actor:
    """The staff member or storefront behind `Authorization: Bearer <token>`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Unauthenticated("Authentication required: send `Authorization: Bearer <token>`.")
    try:
        return actor_for_token(mill, token.strip())
    except PermissionDenied as error:
        raise _Unauthenticated(error.message) from None


@payments_bp.post("/api/v1/orders/<number>/payment-intents")
def start_payment(number: str) -> Any:
    """Start an online payment for the order's next unpaid invoice (or `invoice_id`)."""
    mill = _mill()
    body = request.get_json(silent=True) or {}
    try:
        invoice_id = body.get("invoice_id")
        answer = payments.start_payment(
            mill, number, _actor(mill),
            invoice_id=int(invoice_id) if invoice_id is not None else None)
    except OrdermillError as error:
        return _error(error)
    except (TypeError, ValueError):
        return _error(_BadInput("invoice_id must be an integer."))
    response = jsonify(answer)
    response.status_code = 201
    return response


@payments_bp.post("/api/v1/orders/<number>/payment-captures")
def capture_payment(number: str) -> Any:
    """Capture a payment the buyer approved at the gateway (PayPal) and record it."""
    mill = _mill()
    body = request.get_json(silent=True) or {}
    try:
        answer = payments.capture_payment(mill, number, _actor(mill), body)
    except OrdermillError as error:
        return _error(error)
    return jsonify(answer)


class _BadInput(OrdermillError):
    code = "invalid_input"
    http_status = 422
