"""Local stand-ins for Stripe and PayPal, speaking their wire formats, plus webhook signers.

The real SDKs (stripe, paypal-server-sdk) talk HTTP to a pytest-httpserver that answers with
Stripe- and PayPal-shaped JSON for the endpoints ordermill uses. Tests move money on the fake
side the way the real service would (a buyer pays, a refund is made in the dashboard) and
then post the webhook the service would send, signed with its real scheme: Stripe's
`t=...,v1=HMAC-SHA256(secret, "t.payload")`, and PayPal's transmission headers that the fake
checks in its verify-webhook-signature endpoint.

Shipped in the package (not only in ordermill's tests) so gateway and integration authors
can reuse them: `serve_fakes(httpserver)` puts both on one pytest-httpserver (install
`pytest-httpserver`), `fake_gateway_settings(base_url)` points the built-in Stripe, PayPal
and bank-transfer plugins at it (the `plugins` key of Settings); tests/plugins/payments/
conftest.py shows the fixtures built on them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import time
import zlib
from typing import Any

from sqlalchemy import func, select
from werkzeug import Request, Response

from ordermill.core.app import Ordermill
from ordermill.core.models import GatewayEvent, Order, OrderEvent
from ordermill.core.statuses import line_summary, payment_status

STRIPE_KEY = "sk_test_ordermill"
STRIPE_WEBHOOK_SECRET = "whsec_test_ordermill"
PAYPAL_CLIENT = ("paypal-client-id", "paypal-client-secret")
PAYPAL_WEBHOOK_ID = "WH-ORDERMILL-TEST"
BANK = {"account_holder": "Concert Hall Ltd", "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX", "bank": "Commerzbank"}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {},
                    content_type="application/json")


def parse_stripe_form(pairs: Any) -> dict[str, Any]:
    """'metadata[order_number]=1' and 'expand[0]=x' back into nested dicts and lists."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(result)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


# ---------------------------------------------------------------------------------- Stripe


class FakeStripe:
    """Just enough of api.stripe.com: PaymentIntents, Charges, Refunds, Balance Transactions,
    Customers, and off-session debits of a saved payment method (`confirm` with
    `off_session`): they succeed at once, or are declined (402 card_error, the replay too)
    when the payment method or customer is in `declining`. `debit_fee` is the fee of each."""

    def __init__(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.txns: dict[str, dict[str, Any]] = {}
        self.replies: dict[str, tuple[dict[str, Any], int, dict[str, Any]]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.declining: set[str] = set()
        self.debit_fee = 0
        self.calls: list[dict[str, Any]] = []
        self.down = False  # True: every request is answered 503 (an outage)
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_3Test{next(self._ids):08d}"

    # ---- HTTP ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if self.down:
            return self._error(503, "Stripe is unavailable.", "api_error")
        if request.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
            return self._error(401, "Invalid API Key provided.", "invalid_request_error")
        params = parse_stripe_form(list(request.form.items(multi=True))
                                   + list(request.args.items(multi=True)))
        key = request.headers.get("Idempotency-Key")
        self.calls.append({"method": request.method, "path": request.path, "params": params,
                           "idempotency_key": key})
        if request.method == "POST" and key and key in self.replies:
            sent, status, reply = self.replies[key]
            if sent != params:
                return self._error(400, "Keys for idempotent requests can only be used "
                                        "with the same parameters.", "idempotency_error")
            return _json(reply, status, headers={"Idempotent-Replayed": "true"})
        status, reply = self._route(request.method, request.path, params)
        if request.method == "POST" and key and status in (200, 402):  # Stripe keeps declines
            self.replies[key] = (params, status, reply)
        return _json(reply, status)

    def _route(self, method: str, path: str, params: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/payment_intents":
            intent = self.create_intent(params)
            if str(params.get("confirm")) == "true":
                return self.confirm_off_session(intent["id"])
            return 200, intent
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            found = self.intents.get(path.rsplit("/", 1)[1])
            if found is None:
                return 404, {"error": {"type": "invalid_request_error",
                                       "message": "No such payment_intent"}}
            return 200, dict(found)
        if method == "POST" and path == "/v1/customers":
            customer = {"id": self.new_id("cus"), "object": "customer",
                        "email": params.get("email"), "metadata": params.get("metadata", {})}
            self.customers[customer["id"]] = customer
            return 200, dict(customer)
        if method == "GET" and path.startswith("/v1/charges/"):
            charge = self.charges.get(path.rsplit("/", 1)[1])
            if charge is None:
                return 404, {"error": {"type": "invalid_request_error",
                                       "message": "No such charge"}}
            return 200, self.expanded(charge, params.get("expand") or [])
        if method == "POST" and path == "/v1/refunds":
            return self.create_refund(params)
        if method == "GET" and path == "/v1/refunds":
            data = [r for r in self.refunds.values() if r["charge"] == params.get("charge")]
            return 200, {"object": "list", "data": data, "has_more": False,
                         "url": "/v1/refunds"}
        return 404, {"error": {"type": "invalid_request_error",
                               "message": f"Unrecognized request URL ({method}: {path})."}}

    @staticmethod
    def _error(status: int, message: str, kind: str) -> Response:
        return _json({"error": {"type": kind, "message": message}}, status)

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = self.new_id("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": int(params["amount"]),
            "amount_received": 0, "currency": params["currency"],
            "metadata": params.get("metadata", {}), "description": params.get("description"),
            "status": "requires_payment_method", "latest_charge": None,
            "client_secret": f"{intent_id}_secret_{next(self._ids)}",
            "last_payment_error": None, "livemode": False,
            "customer": params.get("customer"), "payment_method": params.get("payment_method"),
            "setup_future_usage": params.get("setup_future_usage"),
            "off_session": str(params.get("off_session")) == "true",
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def expanded(self, charge: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        shown = dict(charge)
        if "balance_transaction" in expand and charge["balance_transaction"]:
            shown["balance_transaction"] = self.txns[charge["balance_transaction"]]
        if "payment_intent" in expand and charge["payment_intent"]:
            shown["payment_intent"] = self.intents[charge["payment_intent"]]
        return shown

    def create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or not intent["latest_charge"]:
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "This PaymentIntent has no charge to refund."}}
        amount = int(params.get("amount") or 0) or None
        refund = self.refund(intent["id"], amount, metadata=params.get("metadata") or {})
        if refund is None:
            return 400, {"error": {"type": "invalid_request_error",
                                   "code": "charge_already_refunded",
                                   "message": "Refund amount is greater than unrefunded "
                                              "amount on charge."}}
        return 200, refund

    def confirm_off_session(self, intent_id: str) -> tuple[int, dict[str, Any]]:
        """Debit the intent's saved payment method now: succeeded, or a 402 decline."""
        intent = self.intents[intent_id]
        if not intent["customer"] or not intent["payment_method"]:
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "An off-session payment needs a customer and "
                                              "a payment_method."}}
        if {intent["customer"], intent["payment_method"]} & self.declining:
            self.decline(intent_id)
            return 402, {"error": {"type": "card_error", "code": "card_declined",
                                   "decline_code": "insufficient_funds",
                                   "message": "Your card has insufficient funds.",
                                   "payment_intent": dict(intent)}}
        self.pay(intent_id, fee=self.debit_fee)
        return 200, dict(intent)

    def debits(self) -> list[dict[str, Any]]:
        """The off-session debit requests received (replays included)."""
        return [call for call in self.calls if call["method"] == "POST"
                and call["path"] == "/v1/payment_intents"
                and str(call["params"].get("off_session")) == "true"]

    # ---- what happens on Stripe's side ---------------------------------------------------

    def pay(self, intent_id: str, *, fee: int, one_click: bool = False) -> dict[str, Any]:
        """The buyer paid: a charge with a balance transaction; returns the succeeded event."""
        intent = self.intents[intent_id]
        charge_id, txn_id = self.new_id("ch"), self.new_id("txn")
        amount = intent["amount"]
        self.txns[txn_id] = {"id": txn_id, "object": "balance_transaction", "amount": amount,
                             "fee": fee, "net": amount - fee, "currency": intent["currency"],
                             "exchange_rate": None, "type": "charge", "source": charge_id}
        details = ({"type": "link", "link": {}} if one_click
                   else {"type": "card", "card": {"brand": "visa", "last4": "4242",
                                                  "wallet": None}})
        self.charges[charge_id] = {
            "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": 0, "refunded": False, "captured": True, "paid": True,
            "currency": intent["currency"], "payment_intent": intent_id, "metadata": {},
            "balance_transaction": txn_id, "payment_method_details": details,
            "status": "succeeded",
        }
        intent.update(status="succeeded", amount_received=amount, latest_charge=charge_id)
        if intent.get("setup_future_usage") and intent.get("customer"):
            intent["payment_method"] = intent.get("payment_method") or self.new_id("pm")
        return self.event("payment_intent.succeeded", dict(intent))

    def decline(self, intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        intent = self.intents[intent_id]
        intent["last_payment_error"] = {"code": "card_declined", "message": message}
        intent["status"] = "requires_payment_method"
        return self.event("payment_intent.payment_failed", dict(intent))

    def refund(self, intent_id: str, amount: int | None = None, *,
               metadata: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A refund made on Stripe (through the API or in the dashboard)."""
        charge = self.charges[self.intents[intent_id]["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            return None
        refund_id, txn_id = self.new_id("re"), self.new_id("txn")
        self.txns[txn_id] = {"id": txn_id, "object": "balance_transaction", "amount": -amount,
                             "fee": 0, "net": -amount, "currency": charge["currency"],
                             "type": "refund", "source": refund_id}
        refund = {"id": refund_id, "object": "refund", "amount": amount,
                  "charge": charge["id"], "payment_intent": intent_id,
                  "currency": charge["currency"], "status": "succeeded",
                  "metadata": metadata or {}, "balance_transaction": txn_id,
                  "created": int(time.time())}
        self.refunds[refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return dict(refund)

    def refunded_event(self, intent_id: str) -> dict[str, Any]:
        """charge.refunded as API versions since 2022-11-15 send it: no refunds list."""
        return self.event("charge.refunded",
                          dict(self.charges[self.intents[intent_id]["latest_charge"]]))

    def dispute_event(self, intent_id: str, *, reason: str = "fraudulent") -> dict[str, Any]:
        charge = self.charges[self.intents[intent_id]["latest_charge"]]
        dispute = {"id": self.new_id("dp"), "object": "dispute", "amount": charge["amount"],
                   "currency": charge["currency"], "charge": charge["id"],
                   "payment_intent": intent_id, "reason": reason,
                   "status": "needs_response"}
        return self.event("charge.dispute.created", dispute)

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.new_id("evt"), "object": "event", "type": kind,
                "api_version": "2025-09-30.clover", "created": int(time.time()),
                "livemode": False, "pending_webhooks": 1, "data": {"object": obj},
                "request": {"id": None, "idempotency_key": None}}


def stripe_signature(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET,
                     timestamp: int | None = None) -> str:
    """Stripe's scheme, written out here rather than borrowed from the SDK under test."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


# ---------------------------------------------------------------------------------- PayPal


def paypal_crc(event: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(event, sort_keys=True, separators=(",", ":")).encode())


class FakePayPal:
    """Just enough of api-m.paypal.com: OAuth, Orders v2, captures, refunds, webhook checks.

    Signatures: the fake signs `transmission_id|time|webhook_id|crc32(event)` with an HMAC key
    of its own (real PayPal uses RSA with a certificate); verify-webhook-signature answers
    SUCCESS only for a matching signature, so a forged or altered delivery fails as it would.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.signing_key = b"paypal-fake-signing-key"
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.replies: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.fees: dict[str, int] = {}
        self.down = False  # True: every request is answered 503 (an outage)
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):013d}"

    def handle(self, request: Request) -> Response:
        if self.down:
            return _json({"name": "SERVICE_UNAVAILABLE"}, 503)
        path = request.path
        body = request.get_json(silent=True) or {}
        self.calls.append({"method": request.method, "path": path, "body": body,
                           "request_id": request.headers.get("PayPal-Request-Id")})
        if path == "/v1/oauth2/token":
            expected = base64.b64encode(":".join(PAYPAL_CLIENT).encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return _json({"error": "invalid_client"}, 401)
            return _json({"access_token": "A21AAFakeToken", "token_type": "Bearer",
                          "expires_in": 32400, "scope": "https://uri.paypal.com/services"})
        if request.headers.get("Authorization") != "Bearer A21AAFakeToken":
            return _json({"name": "AUTHENTICATION_FAILURE"}, 401)
        request_id = request.headers.get("PayPal-Request-Id")
        if request_id and (path, request_id) in self.replies:
            return _json(self.replies[(path, request_id)])
        status, reply = self._route(request.method, path, body)
        if request_id and status < 300:
            self.replies[(path, request_id)] = reply
        return _json(reply, status)

    def _route(self, method: str, path: str, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v2/checkout/orders":
            return 201, self.create_order(body)
        if method == "POST" and parts[:3] == ["v2", "checkout", "orders"] \
                and parts[-1] == "capture":
            return self.capture(parts[3])
        if method == "GET" and parts[:3] == ["v2", "payments", "captures"]:
            capture = self.captures.get(parts[3])
            return (200, capture) if capture else (404, {"name": "RESOURCE_NOT_FOUND"})
        if method == "POST" and parts[:3] == ["v2", "payments", "captures"] \
                and parts[-1] == "refund":
            amount = body.get("amount") or {}
            refund = self.refund(parts[3], _minor(amount) if amount else None)
            if refund is None:
                return 422, {"name": "UNPROCESSABLE_ENTITY",
                             "details": [{"issue": "REFUND_AMOUNT_EXCEEDED"}]}
            return 201, refund
        if method == "POST" and path == "/v1/notifications/verify-webhook-signature":
            return 200, {"verification_status": "SUCCESS" if self.verify(body) else "FAILURE"}
        return 404, {"name": "RESOURCE_NOT_FOUND", "message": path}

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        order_id = self.new_id("5O")
        order = {"id": order_id, "status": "CREATED", "intent": body["intent"],
                 "purchase_units": body["purchase_units"],
                 "links": [{"href": f"{self.base_url}/v2/checkout/orders/{order_id}",
                            "rel": "self", "method": "GET"},
                           {"href": f"https://www.sandbox.paypal.com/checkoutnow?token="
                                    f"{order_id}", "rel": "payer-action", "method": "GET"}]}
        self.orders[order_id] = order
        return order

    def approve(self, order_id: str, *, fee: int) -> None:
        """The buyer approved the order on PayPal's page."""
        self.orders[order_id]["status"] = "APPROVED"
        self.fees[order_id] = fee

    def capture(self, order_id: str) -> tuple[int, dict[str, Any]]:
        order = self.orders.get(order_id)
        if order is None:
            return 404, {"name": "RESOURCE_NOT_FOUND"}
        if order["status"] != "APPROVED":
            return 422, {"name": "UNPROCESSABLE_ENTITY",
                         "details": [{"issue": "ORDER_NOT_APPROVED"}]}
        unit = order["purchase_units"][0]
        amount = unit["amount"]
        fee = self.fees[order_id]
        capture_id = self.new_id("CAP")
        currency = amount["currency_code"]
        capture = {
            "id": capture_id, "status": "COMPLETED", "amount": amount,
            "custom_id": unit.get("custom_id"), "invoice_id": unit.get("invoice_id"),
            "final_capture": True,
            "seller_receivable_breakdown": {
                "gross_amount": amount, "paypal_fee": _major(fee, currency),
                "net_amount": _major(_minor(amount) - fee, currency)},
            "supplementary_data": {"related_ids": {"order_id": order_id}},
            "links": [{"href": f"{self.base_url}/v2/payments/captures/{capture_id}",
                       "rel": "self", "method": "GET"}],
        }
        self.captures[capture_id] = capture
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [capture]}
        return 201, order

    def refund(self, capture_id: str, amount: int | None) -> dict[str, Any] | None:
        capture = self.captures[capture_id]
        refunded = sum(_minor(r["amount"]) for r in self.refunds.values()
                       if r["capture_id"] == capture_id)
        left = _minor(capture["amount"]) - refunded
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            return None
        refund_id = self.new_id("RF")
        currency = capture["amount"]["currency_code"]
        refund = {"id": refund_id, "status": "COMPLETED", "amount": _major(amount, currency),
                  "capture_id": capture_id, "custom_id": capture.get("custom_id"),
                  "links": [{"href": f"{self.base_url}/v2/payments/refunds/{refund_id}",
                             "rel": "self", "method": "GET"},
                            {"href": f"{self.base_url}/v2/payments/captures/{capture_id}",
                             "rel": "up", "method": "GET"}]}
        self.refunds[refund_id] = refund
        capture["status"] = "REFUNDED" if amount == left else "PARTIALLY_REFUNDED"
        return {k: v for k, v in refund.items() if k != "capture_id"}

    def event(self, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"WH-{self.new_id('EVT')}", "event_version": "1.0",
                "create_time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                "resource_type": kind.split(".")[1].lower(), "event_type": kind,
                "summary": kind, "resource": resource}

    def capture_event(self, capture_id: str) -> dict[str, Any]:
        return self.event("PAYMENT.CAPTURE.COMPLETED", dict(self.captures[capture_id]))

    def refund_event(self, refund_id: str) -> dict[str, Any]:
        resource = {k: v for k, v in self.refunds[refund_id].items() if k != "capture_id"}
        return self.event("PAYMENT.CAPTURE.REFUNDED", resource)

    def dispute_event(self, capture_id: str) -> dict[str, Any]:
        capture = self.captures[capture_id]
        return self.event("CUSTOMER.DISPUTE.CREATED", {
            "dispute_id": self.new_id("PP-D-"), "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "status": "OPEN", "dispute_amount": capture["amount"],
            "disputed_transactions": [{"seller_transaction_id": capture_id}]})

    def signature_input(self, transmission_id: str, when: str, webhook_id: str,
                        event: dict[str, Any]) -> bytes:
        return f"{transmission_id}|{when}|{webhook_id}|{paypal_crc(event)}".encode()

    def sign(self, event: dict[str, Any], *, when: dt.datetime | None = None,
             webhook_id: str = PAYPAL_WEBHOOK_ID) -> dict[str, str]:
        """The transmission headers PayPal sends with a webhook."""
        stamp = (when or dt.datetime.now(dt.UTC)).isoformat().replace("+00:00", "Z")
        transmission_id = f"{next(self._ids):08d}-b1c2-11ef-a8e4-0242ac110002"
        signature = hmac.new(self.signing_key, self.signature_input(
            transmission_id, stamp, webhook_id, event), hashlib.sha256).hexdigest()
        return {"PAYPAL-AUTH-ALGO": "SHA256withRSA",
                "PAYPAL-CERT-URL": f"{self.base_url}/v1/notifications/certs/CERT-fake",
                "PAYPAL-TRANSMISSION-ID": transmission_id,
                "PAYPAL-TRANSMISSION-SIG": signature,
                "PAYPAL-TRANSMISSION-TIME": stamp}

    def verify(self, body: dict[str, Any]) -> bool:
        expected = hmac.new(self.signing_key, self.signature_input(
            body.get("transmission_id", ""), body.get("transmission_time", ""),
            body.get("webhook_id", ""), body.get("webhook_event") or {}),
            hashlib.sha256).hexdigest()
        return (body.get("webhook_id") == PAYPAL_WEBHOOK_ID
                and body.get("auth_algo") == "SHA256withRSA"
                and hmac.compare_digest(expected, str(body.get("transmission_sig"))))


def _minor(amount: dict[str, Any]) -> int:
    whole, _, frac = str(amount["value"]).partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _major(amount: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": f"{amount // 100}.{amount % 100:02d}"}


STRIPE_PATHS = ("/v1/payment_intents", "/v1/charges", "/v1/refunds", "/v1/customers")


def serve_fakes(httpserver: Any) -> tuple[FakeStripe, FakePayPal]:
    """Stripe (/v1/payment_intents, /v1/charges, /v1/refunds) and PayPal (/v1/oauth2...,
    /v2/...) on one pytest-httpserver `HTTPServer`; returns both fakes."""
    stripe_fake = FakeStripe()
    paypal_fake = FakePayPal(httpserver.url_for("/").rstrip("/"))

    def dispatch(request: Request) -> Response:
        if request.path.startswith(STRIPE_PATHS):
            return stripe_fake.handle(request)
        return paypal_fake.handle(request)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(dispatch)
    return stripe_fake, paypal_fake


def fake_gateway_settings(base_url: str) -> dict[str, dict[str, Any]]:
    """The `plugins` Settings that point the built-in gateways at the fakes on `base_url`."""
    return {
        "payment_stripe": {"secret_key": STRIPE_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET,
                           "api_base": base_url, "max_network_retries": 0},
        "payment_paypal": {"client_id": PAYPAL_CLIENT[0], "client_secret": PAYPAL_CLIENT[1],
                           "webhook_id": PAYPAL_WEBHOOK_ID, "api_base": base_url},
        "payment_banktransfer": dict(BANK),
    }


def order_state(mill: Ordermill, number: str) -> dict[str, Any]:
    """What one delivery of the events must leave, with gateway ids and numbers masked so
    that two orders fed the same story compare equal."""
    order = mill.orders.get(number)

    def mask(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        text = re.sub(r"\b(pi|ch|re|dp|evt|txn)_\w+|\b(CAP|RF|5O|PP-D-|EVT)\d+|WH-\S+",
                      "<id>", text)
        return text.replace(number, "<number>")

    with mill.read_session() as session:
        events = session.execute(select(OrderEvent.type, OrderEvent.actor, OrderEvent.message)
                                 .where(OrderEvent.order_number == number)).all()
        stored = session.execute(select(GatewayEvent.type, GatewayEvent.outcome)
                                 .where(GatewayEvent.order_number == number)).all()
        version = session.scalar(select(Order.version).where(Order.number == number))
    invoices = {inv.id: index for index, inv in enumerate(order.invoices)}
    charges = {p.id: index for index, p in enumerate(order.payments)}
    return {
        "status": order.status, "payment_status": payment_status(order),
        "summary": line_summary(order), "needs_attention": mask(order.needs_attention),
        "paid": order.paid_at is not None,
        "payments": sorted((p.kind, p.status, p.amount, p.fee, p.net, p.manual, p.one_click,
                            invoices.get(p.invoice_id, -1), charges.get(p.refund_of_id, -1),
                            p.gateway, bool(p.gateway_reference)) for p in order.payments),
        "invoices": [(inv.status, inv.amount) for inv in order.invoices],
        "lines": [(line.status, line.refunded_amount) for line in order.lines],
        "events": sorted((t, a, mask(m)) for t, a, m in events),
        "gateway_events": len(stored),
        "unapplied": sum(1 for _t, outcome in stored if outcome is None),
        "version": version,
    }


def count(mill: Ordermill, model: Any) -> int:
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
