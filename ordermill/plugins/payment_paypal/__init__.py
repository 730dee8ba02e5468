"""PayPal: Orders v2 (create, capture), refunds of captures, and verified webhooks.

Uses PayPal's maintained `paypal-server-sdk` for the Orders and Payments APIs. The SDK has no
call for webhook verification, so that one call (POST /v1/notifications/verify-webhook-signature,
with the SDK's OAuth token) is made with `requests`, which the SDK itself is built on.

Flow: `start_payment` creates a PayPal order for what the next invoice asks and returns its
approve link; after the buyer approved it, `POST /api/v1/orders/<n>/payment-captures` with
{"paypal_order_id": ...} captures it and records the payment; PAYMENT.CAPTURE.COMPLETED,
PAYMENT.CAPTURE.DENIED / DECLINED, PAYMENT.CAPTURE.REFUNDED and CUSTOMER.DISPUTE.CREATED
arrive at `POST /api/v1/webhooks/paypal`.

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"payment_paypal": {"client_id": "...", "client_secret": "...", "webhook_id": "...",
                        "environment": "sandbox" | "production", "api_base": null,
                        "tolerance": 300}}

`tolerance` (seconds, 0 to switch off) refuses webhooks whose transmission time is that far
from now, so a captured delivery cannot be replayed days later.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from ordermill.api import (
    ActionContext,
    ConfigurationError,
    GatewayEventData,
    GatewayRefund,
    GatewayRefundData,
    InvalidInput,
    Invoice,
    Money,
    Order,
    Payment,
    PaymentGatewaySpec,
    PluginError,
    Settings,
    WebhookRejected,
    hookimpl,
    money_text,
)

PLUGIN = "payment_paypal"
GATEWAY = "paypal"
SIGNATURE_HEADERS = ("paypal-auth-algo", "paypal-cert-url", "paypal-transmission-id",
                     "paypal-transmission-sig", "paypal-transmission-time")
REFUND_STATUSES = {"COMPLETED": "succeeded", "PENDING": "pending", "FAILED": "failed",
                   "CANCELLED": "failed"}
CAPTURE_KINDS = {"COMPLETED": "payment_succeeded", "REFUNDED": "payment_succeeded",
                 "PARTIALLY_REFUNDED": "payment_succeeded", "PENDING": "ignored"}


def _sdk_configuration(config: Mapping[str, Any], timeout: int) -> Any:
    """The SDK's configuration, with its base URI replaceable (tests, proxies). The SDK is
    imported here, on first use: it is a tenth of a second of every start otherwise."""
    from paypalserversdk.configuration import Configuration, Environment, Server
    from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials

    class _Configuration(Configuration):  # type: ignore[misc]
        def __init__(self, base_uri: str | None, **kwargs: Any) -> None:
            self._ordermill_base = base_uri
            super().__init__(**kwargs)

        def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
            return self._ordermill_base or str(super().get_base_uri(server))

    environment = (Environment.PRODUCTION if config.get("environment") == "production"
                   else Environment.SANDBOX)
    base = str(config["api_base"]).rstrip("/") if config.get("api_base") else None
    return _Configuration(
        base, environment=environment, timeout=timeout,
        client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
            o_auth_client_id=str(config.get("client_id") or ""),
            o_auth_client_secret=str(config.get("client_secret") or "")),
    )


def minor(value: Mapping[str, Any] | None) -> int:
    """PayPal's {"currency_code": "EUR", "value": "12.50"} in minor units."""
    if not value:
        return 0
    return Money.parse(str(value.get("value", "0")), str(value["currency_code"])).amount


def major(amount: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": money_text(amount, currency)}


class PayPalGateway:
    """One configured PayPal REST app: the SDK client plus the callables of the spec."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.timeout = int(config.get("timeout", 30))  # a bad value stops the start
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @cached_property
    def _sdk_config(self) -> Any:
        return _sdk_configuration(self.config, self.timeout)

    @cached_property
    def base_uri(self) -> str:
        return str(self._sdk_config.get_base_uri())

    @cached_property
    def client(self) -> Any:
        from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

        return PaypalServersdkClient(config=self._sdk_config)

    # ---- paying ----------------------------------------------------------------------------

    def start_payment(self, *, order: Order, invoice: Invoice | None, amount: int,
                      currency: str, idempotency_key: str) -> dict[str, Any]:
        """Create a PayPal order (intent CAPTURE) for this invoice; return the approve link."""
        unit = {"reference_id": order.number, "custom_id": order.number,
                "description": f"Order {order.number}", "amount": major(amount, currency)}
        if invoice is not None:
            unit["invoice_id"] = f"{order.number}-{invoice.id}"
        answer = self._call(self.client.orders.create_order, {
            "body": {"intent": "CAPTURE", "purchase_units": [unit]},
            "paypal_request_id": idempotency_key, "prefer": "return=representation"})
        links = {link.get("rel"): link.get("href") for link in answer.get("links", [])}
        return {"paypal_order_id": answer["id"], "status": answer.get("status"),
                "approve_url": links.get("payer-action") or links.get("approve")}

    def capture_payment(self, *, order: Order, data: Mapping[str, Any]) -> GatewayEventData:
        """Capture an approved PayPal order; the answer is applied like a capture webhook."""
        paypal_order = str(data.get("paypal_order_id") or "")
        if not paypal_order:
            raise InvalidInput("Say which PayPal order to capture: paypal_order_id.")
        answer = self._call(self.client.orders.capture_order, {
            "id": paypal_order, "paypal_request_id": f"ordermill-capture-{paypal_order}",
            "prefer": "return=representation"})
        units = answer.get("purchase_units") or [{}]
        captures = (units[0].get("payments") or {}).get("captures") or []
        if not captures:
            raise PluginError(PLUGIN, "capture_payment", f"PayPal order {paypal_order} "
                                                         f"returned no capture.")
        capture = {**captures[0], "custom_id": captures[0].get("custom_id")
                   or units[0].get("custom_id")}
        return self._capture_event(f"capture:{capture['id']}", "CAPTURE", capture, answer)

    def refund(self, *, charge: Payment, amount: int, idempotency_key: str,
               ctx: ActionContext) -> GatewayRefund:
        """Refund part or all of a capture; PayPal-Request-Id makes a retry harmless."""
        answer = self._call(self.client.payments.refund_captured_payment, {
            "capture_id": charge.gateway_reference, "paypal_request_id": idempotency_key,
            "prefer": "return=representation",
            "body": {"amount": major(amount, charge.currency)}})
        status = REFUND_STATUSES.get(str(answer.get("status")), "pending")
        if status == "failed":
            raise PluginError(PLUGIN, "refund", f"PayPal refused refund {answer.get('id')}.")
        return GatewayRefund(reference=str(answer["id"]), status=status, raw=answer)

    def _call(self, method: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        """Call the SDK; return the answer as plain JSON (the wire format the docs show)."""
        from paypalserversdk.exceptions.api_exception import ApiException

        try:
            response = method(dict(options))
        except ApiException as error:
            raise PluginError(PLUGIN, getattr(method, "__name__", "call"),
                              f"PayPal answered {error.response_code}: {error.reason}"
                              ) from error
        return dict(json.loads(response.text or "{}"))

    # ---- webhooks --------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> GatewayEventData:
        """Verify the transmission with PayPal, then normalize the event."""
        webhook_id = self.config.get("webhook_id")
        if not webhook_id:
            raise ConfigurationError(f"{PLUGIN}: webhook_id is not configured.")
        missing = [name for name in SIGNATURE_HEADERS if not headers.get(name)]
        if missing:
            raise WebhookRejected(f"PayPal webhook lacks {', '.join(missing)}.")
        self._check_time(headers["paypal-transmission-time"])
        try:
            event = json.loads(body)
        except ValueError as error:
            raise WebhookRejected(f"PayPal webhook body is not JSON: {error}") from error
        verdict = self._post("/v1/notifications/verify-webhook-signature", {
            "auth_algo": headers["paypal-auth-algo"],
            "cert_url": headers["paypal-cert-url"],
            "transmission_id": headers["paypal-transmission-id"],
            "transmission_sig": headers["paypal-transmission-sig"],
            "transmission_time": headers["paypal-transmission-time"],
            "webhook_id": webhook_id, "webhook_event": event})
        if verdict.get("verification_status") != "SUCCESS":
            raise WebhookRejected("PayPal did not verify the webhook signature.")
        return self.normalize(event)

    def _check_time(self, text: str) -> None:
        tolerance = int(self.config.get("tolerance", 300))
        try:
            sent = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise WebhookRejected(f"Bad PayPal-Transmission-Time {text!r}.") from error
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=dt.UTC)
        age = abs((dt.datetime.now(dt.UTC) - sent).total_seconds())
        if tolerance and age > tolerance:
            raise WebhookRejected(f"PayPal webhook sent {int(age)} s ago, outside the "
                                  f"{tolerance} s tolerance.")

    def normalize(self, event: Mapping[str, Any]) -> GatewayEventData:
        """A verified PayPal event as the core's GatewayEventData."""
        kind = str(event.get("event_type", ""))
        resource = event.get("resource") or {}
        event_id = str(event["id"])
        if kind == "PAYMENT.CAPTURE.COMPLETED":
            return self._capture_event(event_id, kind, resource, event)
        if kind in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            return GatewayEventData(
                event_id=event_id, type=kind, kind="payment_failed", raw=event,
                order_number=resource.get("custom_id"), reference=resource.get("id"),
                message=str((resource.get("status_details") or {}).get("reason")
                            or resource.get("status") or "denied").lower())
        if kind == "PAYMENT.CAPTURE.REFUNDED":
            capture = self._get_capture(self._capture_id_of_refund(resource))
            charge = self._capture_event(event_id, kind, capture, event)
            refund = GatewayRefundData(str(resource["id"]), minor(resource.get("amount")),
                                       REFUND_STATUSES.get(str(resource.get("status")),
                                                           "pending"))
            return GatewayEventData(**{**_fields(charge), "kind": "refunded",
                                       "refunds": (refund,)})
        if kind == "CUSTOMER.DISPUTE.CREATED":
            transactions = resource.get("disputed_transactions") or [{}]
            capture = self._get_capture(str(transactions[0].get("seller_transaction_id")))
            charge = self._capture_event(event_id, kind, capture, event)
            amount = resource.get("dispute_amount") or {}
            message = (f"dispute {resource.get('dispute_id')} over {amount.get('value')} "
                       f"{amount.get('currency_code')}, reason {resource.get('reason')}; "
                       f"answer it in the PayPal Resolution Center")
            return GatewayEventData(**{**_fields(charge), "kind": "dispute",
                                       "message": message})
        return GatewayEventData(event_id=event_id, type=kind, kind="ignored", raw=event)

    def _capture_event(self, event_id: str, kind: str, capture: Mapping[str, Any],
                       raw: Mapping[str, Any]) -> GatewayEventData:
        amount = capture.get("amount") or {}
        breakdown = capture.get("seller_receivable_breakdown") or {}
        status = capture.get("status")
        invoice = str(capture.get("invoice_id") or "").rpartition("-")[2]
        return GatewayEventData(
            event_id=event_id, type=kind, kind=CAPTURE_KINDS.get(str(status), "payment_failed"),
            order_number=capture.get("custom_id"), reference=capture.get("id"),
            amount=minor(amount) or None, fee=minor(breakdown.get("paypal_fee")),
            currency=amount.get("currency_code"),
            invoice_id=int(invoice) if invoice.isdigit() else None,
            message=f"capture is {str(status).lower()}", raw=raw)

    @staticmethod
    def _capture_id_of_refund(refund: Mapping[str, Any]) -> str:
        for link in refund.get("links") or []:
            if link.get("rel") == "up" and "/captures/" in str(link.get("href")):
                return str(link["href"]).rstrip("/").rsplit("/", 1)[1]
        raise WebhookRejected("PayPal refund names no capture (no 'up' link).")

    def _get_capture(self, capture_id: str) -> dict[str, Any]:
        return self._call(self.client.payments.get_captured_payment,
                          {"capture_id": capture_id})

    def _access_token(self) -> str:
        """The SDK's OAuth token, reused until shortly before it expires."""
        with self._lock:
            if self._token is None or self._token[1] < time.time() + 60:
                token = self.client.oauth_2.fetch_token()
                self._token = (token.access_token, time.time() + int(token.expires_in or 300))
            return self._token[0]

    def _post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        import requests  # on first use, with the SDK (see the module docstring)

        response = requests.post(f"{self.base_uri}{path}", json=payload, timeout=30,
                                 headers={"Authorization": f"Bearer {self._access_token()}"})
        if response.status_code >= 500:
            response.raise_for_status()  # PayPal trouble: answered 502, PayPal resends
        return dict(response.json()) if response.content else {}


def _fields(event: GatewayEventData) -> dict[str, Any]:
    return {field: getattr(event, field) for field in (
        "event_id", "type", "order_number", "reference", "amount", "fee", "currency",
        "invoice_id", "one_click", "raw")}


@hookimpl(trylast=True)
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    config = settings.plugin_config(PLUGIN)
    gateway = PayPalGateway(config)
    return [PaymentGatewaySpec(
        name=GATEWAY, label="PayPal", online=True, can_capture=True, can_refund=True,
        can_partial_refund=True,
        configured=bool(config.get("client_id") and config.get("client_secret")),
        refund=gateway.refund, start_payment=gateway.start_payment,
        capture_payment=gateway.capture_payment, parse_webhook=gateway.parse_webhook,
        extra={"gateway": gateway},  # its `client`: the SDK client, made on first use
    )]
