"""Gateway webhooks and online payment start/capture, over HTTP.

Two blueprints, so each can be registered on its own; both are APIBlueprints, so their
operations are in /api/v1/openapi.json (a gateway author looks there, not in the URL map):

* `webhooks_bp`: POST /api/v1/webhooks/<gateway>. No bearer token, no CSRF token and no
  JSON-only guard: the gateway proves itself with its signature, which the gateway plugin
  checks on the raw body, whatever its content type. The view only hands bytes and headers to
  `core.payments.receive_webhook` and returns its status code.
* `payments_bp`: POST /api/v1/orders/<number>/payment-intents (start an online payment, e.g.
  a Stripe PaymentIntent's client secret) and POST /api/v1/orders/<number>/payment-captures
  (finish an approved PayPal order). Authenticated like the rest of the API
  (`web.auth.require_actor`: bearer token, or admin session with its CSRF token), and the
  caller needs `place_orders`; core errors become the API's JSON error shape through the
  app's error handlers.

The schemas below only document: the views read their bodies themselves, exactly as before
the routes joined the document (`openapi.request_body` parses nothing), so what each route
accepts did not change.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Flask, current_app, jsonify, request
from marshmallow import INCLUDE, Schema, fields

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.web.api import documented, openapi
from ordermill.web.api.guards import access
from ordermill.web.auth import require_actor

webhooks_bp = APIBlueprint("webhooks", __name__, tag="ordermill")
payments_bp = APIBlueprint("payments", __name__, tag="ordermill")
webhooks_bp.record_once(openapi.install)  # the spec processor (raw body, live gateways)
payments_bp.record_once(openapi.install)  # the `order_number` converter

WEBHOOK_PATH = "/api/v1/webhooks/{gateway}"
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorSchema"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": ERROR}


# ---------------------------------------------------------------------------- schemas


class WebhookEventIn(Schema):
    class Meta:
        unknown = INCLUDE
        description = ("The gateway's own event, exactly as it sends it (any content type): "
                       "its plugin verifies the signature over the raw bytes.")


class WebhookOut(Schema):
    received = fields.String(required=True, metadata={
        "description": "The gateway's event id.", "example": "evt_3PzK1y2eZvKYlo2C"})
    replay = fields.Boolean(required=True, metadata={
        "description": "True when this event was already received: nothing changed again."})
    outcome = fields.String(required=True, allow_none=True, metadata={
        "description": "What the event did, e.g. 'payment ch_1 recorded' or 'ignored: ...'.",
        "example": "payment pi_3PzK1y2eZvKYlo2C recorded"})


class PaymentIntentIn(Schema):
    invoice_id = fields.Integer(allow_none=True, metadata={
        "description": "Pay this invoice of the order instead of the oldest unpaid one; an "
                       "invoice the order lacks is a 404, one not unpaid a 409."})

    class Meta:
        unknown = INCLUDE
        description = "Optional: without a body the oldest unpaid invoice is paid."


class PaymentIntentOut(Schema):
    gateway = fields.String(required=True, metadata={"example": "stripe"})
    number = fields.String(required=True, metadata={"example": "4821736590"})
    invoice_id = fields.Integer(required=True, allow_none=True)
    amount = fields.String(required=True, metadata={
        "description": "What this payment asks for, a decimal string in the order's currency.",
        "example": "45.00"})
    currency = fields.String(required=True, metadata={"example": "EUR"})
    idempotency_key = fields.String(required=True, metadata={
        "description": "Derived from the invoice and the amount: a retried request reuses the "
                       "gateway's first answer instead of starting a second payment.",
        "example": "ordermill-invoice-12-4500"})

    class Meta:
        unknown = INCLUDE
        description = ("What the storefront needs to let the buyer pay, plus the gateway's own "
                       "fields (Stripe: payment_intent, client_secret, status; PayPal: "
                       "paypal_order_id, status, approve_url).")


class PaymentCaptureIn(Schema):
    paypal_order_id = fields.String(metadata={
        "description": "PayPal: the PayPal order the buyer approved (from the payment "
                       "intent's answer).", "example": "5O190127TN364715T"})

    class Meta:
        unknown = INCLUDE
        description = "A JSON object handed to the order's gateway, which reads its own keys."


class PaymentCaptureOut(Schema):
    gateway = fields.String(required=True, metadata={"example": "paypal"})
    number = fields.String(required=True, metadata={"example": "4821736590"})
    outcome = fields.String(required=True, metadata={
        "example": "payment 3C679366HH908993F recorded"})
    reference = fields.String(required=True, allow_none=True, metadata={
        "description": "The gateway's reference of the captured payment."})
    payment_status = fields.String(required=True, metadata={"example": "paid"})


def _webhook_gateways(app: Flask) -> list[str]:
    """Installed gateways that take webhooks: the values of {gateway}."""
    mill = app.extensions.get("ordermill")
    if mill is None:
        return []
    return sorted(name for name, spec in mill.gateways.items() if spec.parse_webhook is not None)


openapi.live_path_enum(WEBHOOK_PATH, "gateway", _webhook_gateways)


# ---------------------------------------------------------------------------- views


def _mill() -> Ordermill:
    mill = current_app.extensions.get("ordermill")
    if mill is None:
        raise RuntimeError("the webhooks blueprint needs app.extensions['ordermill']")
    return mill


@webhooks_bp.post("/api/v1/webhooks/<gateway>")
@openapi.request_body(WebhookEventIn, required=True)
@webhooks_bp.output(WebhookOut, description="Applied, a replay, ignored, or for an order "
                                            "ordermill does not know (stored for the admin): "
                                            "the gateway stops resending")
@webhooks_bp.doc(summary="Receive a gateway's signed event (payments, refunds, disputes)",
                 responses={
                     400: _error("Bad, missing or stale signature (webhook_rejected), or a "
                                 "JSON body nested too deeply: nothing is stored"),
                     404: _error("No installed gateway of that name takes webhooks "
                                 "(unknown_gateway)"),
                     422: _error("The gateway plugin refused what the event says "
                                 "(invalid_input): nothing is stored"),
                     500: _error("The gateway is not configured (configuration_error), or "
                                 "applying the event failed: the gateway resends it"),
                     502: _error("The gateway plugin failed, or the gateway's API did not "
                                 "answer while verifying (plugin_error): resent later"),
                     503: _error("The event's payment is not known yet (retry_later): "
                                 "resent later"),
                 })
@access("raw")
def receive(gateway: str) -> Any:
    """Verify, store once and apply one gateway event; the status says resend or stop.

    No API token and no CSRF token: the gateway signs the request, and its plugin checks the
    signature over the raw bytes of the body, which reach it unchanged whatever their content
    type (no JSON-only guard here). 200 tells the gateway to stop resending (applied, a
    replay, ignored, or an order ordermill does not know, stored for the admin); 400 is a bad
    signature; a 5xx makes the gateway send the event again later. Point the gateway's
    dashboard at this URL with the gateway's name, e.g. /api/v1/webhooks/stripe.
    """
    outcome = payments.receive_webhook(_mill(), gateway, request.get_data(),
                                       dict(request.headers.items()))
    response = jsonify(outcome.body)
    response.status_code = outcome.status_code
    return response


@payments_bp.post("/api/v1/orders/<order_number:number>/payment-intents")
@openapi.request_body(PaymentIntentIn)
@payments_bp.output(PaymentIntentOut, status_code=201,
                    description="The payment is started: hand its fields to the storefront")
@documented(400, 403, 404, 409, 502,
            summary="Start an online payment for the order's next unpaid invoice")
def start_payment(number: str) -> Any:
    """Start an online payment for the order's next unpaid invoice (or `invoice_id`).

    For the storefront's checkout: the caller is a staff API token (or the admin's session
    with its X-CSRF-Token header) whose role has place_orders (admin, manager, support);
    anonymous callers get a 401. The gateway's answer (Stripe's client secret, PayPal's
    approve URL) comes back with the amount asked and an idempotency key derived from the
    invoice and the amount, so a repeated call never starts a second payment. A 409 when the
    order is cancelled, refunded or fraud, has nothing left to pay, or its payment method
    takes no online payment.
    """
    body = request.get_json(silent=True) or {}
    invoice_id = body.get("invoice_id") if isinstance(body, dict) else None
    if invoice_id is not None and (isinstance(invoice_id, bool)
                                   or not isinstance(invoice_id, int)):
        raise InvalidInput(_("invoice_id must be an integer."), details={"field": "invoice_id"})
    answer = payments.start_payment(_mill(), number, require_actor(), invoice_id=invoice_id)
    response = jsonify(answer)
    response.status_code = 201
    return response


@payments_bp.post("/api/v1/orders/<order_number:number>/payment-captures")
@openapi.request_body(PaymentCaptureIn, required=True)
@payments_bp.output(PaymentCaptureOut, description="The payment is captured and recorded")
@documented(400, 403, 404, 409, 502, 503,
            summary="Capture a payment the buyer approved at the gateway (PayPal)")
def capture_payment(number: str) -> Any:
    """Capture a payment the buyer approved at the gateway (PayPal) and record it.

    Same callers as payment-intents (place_orders). The body is handed to the order's
    gateway, which reads its own keys (PayPal: paypal_order_id); the captured payment is
    recorded as its webhook would record it, so the webhook arriving later changes nothing.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_("Send a JSON object such as {\"paypal_order_id\": \"...\"}."))
    return jsonify(payments.capture_payment(_mill(), number, require_actor(), body))
