"""Stripe: card payments through PaymentIntents, refunds through the Refunds API, webhooks.

The storefront asks ordermill to start a payment (`POST /api/v1/orders/<n>/payment-intents`),
which creates a PaymentIntent for what the next invoice asks (minor units, the order's
currency, metadata with the order number and invoice id, an idempotency key derived from the
invoice) and hands back its client secret. Stripe then tells ordermill what happened through
`POST /api/v1/webhooks/stripe`, signed with the endpoint's signing secret:
payment_intent.succeeded, payment_intent.payment_failed, charge.refunded and
charge.dispute.created. Fee and net come from the charge's balance transaction.

Recurring orders (a line with a billing cycle, or an invoice plan of several parts) save the
card at the first payment: the PaymentIntent names a Stripe customer made for the order and
asks `setup_future_usage: off_session`. `saved_method` reads the customer and payment method
back from that PaymentIntent, and `charge_saved` debits them later with an off-session,
confirmed PaymentIntent whose idempotency key the core derives from the invoice and attempt.

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"payment_stripe": {"secret_key": "sk_live_...", "webhook_secret": "whsec_...",
                        "tolerance": 300, "api_base": null, "max_network_retries": 2}}

`api_base` points the SDK elsewhere (the tests' local Stripe stand-in, a proxy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ordermill.api import (
    ActionContext,
    ConfigurationError,
    GatewayEventData,
    GatewayRefund,
    GatewayRefundData,
    Invoice,
    Order,
    Payment,
    PaymentGatewaySpec,
    PluginError,
    Settings,
    WebhookRejected,
    hookimpl,
)

if TYPE_CHECKING:
    import stripe

PLUGIN = "payment_stripe"
GATEWAY = "stripe"
REFUND_STATUSES = {"succeeded": "succeeded", "pending": "pending",
                   "requires_action": "pending", "failed": "failed", "canceled": "failed"}


class StripeGateway:
    """One configured Stripe account: the SDK client plus the callables of the spec."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        # read now, so a bad value stops the start, not the first payment
        self.retries = int(config.get("max_network_retries", 2))

    @cached_property
    def sdk(self) -> Any:
        """The stripe package, imported on first use: with the aiohttp it loads, a sixth of
        a second that every start of the CLI and the server would pay."""
        import stripe

        return stripe

    @cached_property
    def client(self) -> stripe.StripeClient:
        base = self.config.get("api_base")
        return self.sdk.StripeClient(
            str(self.config.get("secret_key") or "sk_unconfigured"),
            base_addresses={"api": str(base).rstrip("/")} if base else None,
            max_network_retries=self.retries,
        )

    # ---- paying ----------------------------------------------------------------------------

    def start_payment(self, *, order: Order, invoice: Invoice | None, amount: int,
                      currency: str, idempotency_key: str) -> dict[str, Any]:
        """Create (or, on a retry, get back) the PaymentIntent for this invoice."""
        metadata = {"order_number": order.number}
        if invoice is not None:
            metadata["invoice_id"] = str(invoice.id)
        params: dict[str, Any] = {
            "amount": amount, "currency": currency.lower(), "metadata": metadata,
            "description": f"Order {order.number}",
            "automatic_payment_methods": {"enabled": True}}
        if _recurring(order):
            customer = self.client.v1.customers.create(
                params={"email": order.buyer_email, "metadata": {"order_number": order.number}},
                options={"idempotency_key": f"{idempotency_key}-customer"})
            params.update(customer=customer.id, setup_future_usage="off_session")
        intent = self.client.v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key})
        return {"payment_intent": intent.id, "client_secret": intent.client_secret,
                "status": intent.status}

    def saved_method(self, *, order: Order, payment: Payment) -> dict[str, str] | None:
        """The customer and payment method saved with this charge's PaymentIntent."""
        if not payment.gateway_reference or not payment.gateway_reference.startswith("pi_"):
            return None
        intent = self.client.v1.payment_intents.retrieve(payment.gateway_reference).to_dict()
        customer, method = intent.get("customer"), intent.get("payment_method")
        if not customer or not method:
            return None
        return {"customer": str(customer), "payment_method": str(method)}

    def charge_saved(self, *, order: Order, invoice: Invoice, amount: int, currency: str,
                     saved: Mapping[str, Any], idempotency_key: str) -> GatewayEventData:
        """An off-session, confirmed PaymentIntent on the saved card; a decline is an answer
        (payment_failed), any other Stripe error a fault the caller retries."""
        metadata = {"order_number": order.number, "invoice_id": str(invoice.id)}
        try:
            intent = self.client.v1.payment_intents.create(
                params={"amount": amount, "currency": currency.lower(), "metadata": metadata,
                        "description": f"Order {order.number}: {invoice.description or ''}",
                        "customer": str(saved.get("customer") or ""),
                        "payment_method": str(saved.get("payment_method") or ""),
                        "off_session": True, "confirm": True},
                options={"idempotency_key": idempotency_key})
        except self.sdk.CardError as error:
            body = (error.json_body or {}).get("error") or {}
            failed = body.get("payment_intent") or {}
            return GatewayEventData(
                event_id=f"debit-failed:{idempotency_key}", type="payment_intent.payment_failed",
                kind="payment_failed", order_number=order.number, reference=failed.get("id"),
                currency=currency, invoice_id=invoice.id,
                message=body.get("message") or body.get("code") or "declined", raw=body)
        answer = intent.to_dict()
        charge = self._charge(answer.get("latest_charge"))
        return GatewayEventData(event_id=f"debit:{intent.id}", type="payment_intent.succeeded",
                                kind="payment_succeeded", raw=answer,
                                **self._charge_fields(charge, answer))

    def refund(self, *, charge: Payment, amount: int, idempotency_key: str,
               ctx: ActionContext) -> GatewayRefund:
        """Refund part or all of a PaymentIntent; Stripe keeps its fee (it is not returned)."""
        try:
            answer = self.client.v1.refunds.create(
                params={"payment_intent": charge.gateway_reference, "amount": amount,
                        "metadata": {"ordermill_refund": idempotency_key}},
                options={"idempotency_key": idempotency_key},
            )
        except self.sdk.StripeError as error:
            raise PluginError(PLUGIN, "refund", error.user_message or str(error)) from error
        status = REFUND_STATUSES.get(answer.status or "", "pending")
        if status == "failed":
            raise PluginError(PLUGIN, "refund", f"Stripe refused refund {answer.id} "
                                                f"({answer.get('failure_reason')}).")
        return GatewayRefund(reference=answer.id, status=status, raw=answer.to_dict())

    # ---- webhooks --------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> GatewayEventData:
        """Verify the Stripe-Signature header and normalize the event."""
        secret = self.config.get("webhook_secret")
        if not secret:
            raise ConfigurationError(f"{PLUGIN}: webhook_secret is not configured.")
        try:
            self.client.construct_event(body, headers.get("stripe-signature"), str(secret),
                                        int(self.config.get("tolerance", 300)))
        except (self.sdk.SignatureVerificationError, ValueError) as error:
            raise WebhookRejected(f"Stripe signature rejected: {error}") from error
        event = json.loads(body)
        kind = event.get("type", "")
        obj = event.get("data", {}).get("object", {})
        base = {"event_id": str(event["id"]), "type": kind, "raw": event}
        if kind == "payment_intent.succeeded":
            charge = self._charge(obj.get("latest_charge"))
            return GatewayEventData(kind="payment_succeeded", **base,
                                    **self._charge_fields(charge, obj))
        if kind == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            return GatewayEventData(
                kind="payment_failed", **base, reference=obj.get("id"),
                order_number=(obj.get("metadata") or {}).get("order_number"),
                currency=str(obj.get("currency", "")).upper() or None,
                message=error.get("message") or error.get("code") or "declined")
        if kind == "charge.refunded":
            charge = self._charge(obj.get("id"))
            refunds = self.client.v1.refunds.list(params={"charge": obj["id"], "limit": 100})
            return GatewayEventData(
                kind="refunded", **base, **self._charge_fields(charge, None),
                refunds=[GatewayRefundData(r.id, r.amount, REFUND_STATUSES.get(r.status or "",
                                                                               "pending"))
                         for r in refunds.auto_paging_iter()])
        if kind == "charge.dispute.created":
            charge = self._charge(obj.get("charge"))
            amount = f"{obj.get('amount')} {str(obj.get('currency', '')).upper()} (minor units)"
            return GatewayEventData(
                kind="dispute", **base, **self._charge_fields(charge, None),
                message=f"dispute {obj.get('id')} over {amount}, reason "
                        f"{obj.get('reason') or 'unknown'}; answer it in the Stripe dashboard")
        return GatewayEventData(kind="ignored", **base)

    def _charge(self, charge: Any) -> dict[str, Any]:
        """The charge with its balance transaction and PaymentIntent expanded."""
        charge_id = charge.get("id") if isinstance(charge, Mapping) else charge
        if not charge_id:
            return {}
        found = self.client.v1.charges.retrieve(
            str(charge_id), params={"expand": ["balance_transaction", "payment_intent"]})
        return found.to_dict()

    @staticmethod
    def _charge_fields(charge: Mapping[str, Any], intent: Mapping[str, Any] | None
                       ) -> dict[str, Any]:
        """Order, reference (the PaymentIntent id), amount, fee, currency, one-click flag."""
        intent = intent or (charge.get("payment_intent") if isinstance(
            charge.get("payment_intent"), Mapping) else None) or {}
        metadata = {**(charge.get("metadata") or {}), **(intent.get("metadata") or {})}
        currency = str(charge.get("currency") or intent.get("currency") or "").upper()
        amount = charge.get("amount_captured") or intent.get("amount_received")
        balance = charge.get("balance_transaction")
        fee = 0
        if isinstance(balance, Mapping):
            fee = int(balance.get("fee") or 0)
            rate = balance.get("exchange_rate")
            if str(balance.get("currency", "")).upper() != currency and rate:
                # settled in another currency: convert exactly, half up, no float
                fee = int((Decimal(fee) / Decimal(str(rate))).to_integral_value(ROUND_HALF_UP))
        details = charge.get("payment_method_details") or {}
        one_click = details.get("type") == "link" or bool(
            (details.get("card") or {}).get("wallet"))
        invoice = str(metadata.get("invoice_id") or "")
        return {"order_number": metadata.get("order_number"),
                "reference": intent.get("id") or charge.get("id"),
                "amount": int(amount) if amount else None, "fee": fee,
                "currency": currency or None, "one_click": one_click,
                "invoice_id": int(invoice) if invoice.isdigit() else None}


@hookimpl(trylast=True)
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    gateway = StripeGateway(settings.plugin_config(PLUGIN))
    return [PaymentGatewaySpec(
        name=GATEWAY, label="Card (Stripe)", online=True, can_capture=True,
        can_refund=True, can_partial_refund=True, can_recurring=True,
        saved_method=gateway.saved_method, charge_saved=gateway.charge_saved,
        configured=bool(settings.plugin_config(PLUGIN).get("secret_key")),
        refund=gateway.refund, start_payment=gateway.start_payment,
        parse_webhook=gateway.parse_webhook,
        describe_instructions=_instructions,
        extra={"gateway": gateway},  # its `client`: the SDK client, made on first use
    )]


def _recurring(order: Order) -> bool:
    """Bills again later (a line with a billing cycle, an invoice plan): save the card."""
    return any(line.billing_cycle for line in order.lines) or len(order.invoices) > 1


def _instructions(*, order: Order) -> str:
    return f"Order {order.number} is paid by card through Stripe."
