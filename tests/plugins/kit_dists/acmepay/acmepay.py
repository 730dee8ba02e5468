"""AcmePay: a redirect to pay, a signed webhook that records the charge, refunds by API."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ordermill.api import (
    GatewayEventData,
    GatewayRefund,
    Order,
    PaymentGatewaySpec,
    Settings,
    WebhookRejected,
    hookimpl,
)


def start_payment(*, order: Order, invoice: Any, amount: int, currency: str,
                  idempotency_key: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Where the storefront sends the buyer; AcmePay comes back with a signed webhook."""
    return {"redirect_url": f"{config['base_url']}/pay?order={order.number}&amount={amount}"
                            f"&currency={currency}&key={idempotency_key}"}


def parse_webhook(*, body: bytes, headers: Mapping[str, str],
                  config: Mapping[str, Any]) -> GatewayEventData:
    """Check AcmePay's HMAC-SHA256 signature over the raw body, then normalize the event."""
    expected = hmac.new(config["webhook_secret"].encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("acme-signature", ""), expected):
        raise WebhookRejected("The Acme-Signature header does not match the body.")
    event = json.loads(body)
    kind = {"charge.paid": "payment_succeeded", "charge.failed": "payment_failed"}
    return GatewayEventData(
        event_id=event["id"], type=event["type"], kind=kind.get(event["type"], "ignored"),
        order_number=event["order"], reference=event["charge"], amount=event["amount"],
        currency=event["currency"], raw=event)


def refund(*, charge: Any, amount: int, idempotency_key: str, ctx: Any,
           config: Mapping[str, Any]) -> GatewayRefund:
    """AcmePay refunds are keyed by the core's idempotency key (a retry refunds once)."""
    return GatewayRefund(reference=f"re_{charge.gateway_reference}_{amount}",
                         raw={"idempotency_key": idempotency_key})


@hookimpl
def register_payment_gateways(settings: Settings) -> list[PaymentGatewaySpec]:
    config = settings.plugin_config("acmepay")
    bind = functools.partial
    return [PaymentGatewaySpec(
        name="acmepay", label="AcmePay", online=True, can_refund=True,
        can_partial_refund=True, configured=bool(config.get("webhook_secret")),
        start_payment=bind(start_payment, config=config),
        parse_webhook=bind(parse_webhook, config=config), refund=bind(refund, config=config))]
