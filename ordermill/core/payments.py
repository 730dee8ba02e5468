"""Money through online gateways: inbound webhooks and starting a payment.

A gateway plugin verifies and normalizes; the core stores and applies. Every webhook event is
stored once by (gateway, event id) in GatewayEvent, and every application is idempotent by the
gateway's own references (a charge id, a refund id), so a replayed, concurrent or out-of-order
delivery ends in the state one in-order delivery gives. Nothing here imports a web framework
or a gateway SDK: the web layer passes raw bytes and headers in, and gets a status code out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ordermill.core.errors import (
    ActionNotAllowed,
    InvalidInput,
    NotFound,
    OrdermillError,
    OrderNotFound,
    PluginError,
)
from ordermill.core.i18n import gettext as _
from ordermill.core.models import GatewayEvent, Invoice, Order, Payment, utcnow
from ordermill.core.permissions import require
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor, GatewayEventData, PaymentGatewaySpec
from ordermill.core.statuses import ENDED_CATEGORIES, amount_due, payment_status

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.payments")


class WebhookRejected(OrdermillError):
    """A webhook whose signature is missing, wrong or stale: answered 400, nothing changes."""

    code = "webhook_rejected"
    http_status = 400


class RetryLater(OrdermillError):
    """The event cannot be applied yet (its charge is unknown); the gateway should resend."""

    code = "retry_later"
    http_status = 503


@attrs.frozen
class WebhookOutcome:
    """What the web layer answers the gateway: a status code and a small JSON body."""

    status_code: int
    body: dict[str, Any]


def _failure(status: int, code: str, message: str) -> WebhookOutcome:
    """An error answer in the API's one error shape."""
    return WebhookOutcome(status, {"error": {"code": code, "message": message, "details": {}}})


def gateway_actor(gateway: str) -> Actor:
    """The actor written on events a gateway caused ('system:gateway:stripe')."""
    return Actor.system(f"gateway:{gateway}")


# ---------------------------------------------------------------------------------- webhooks


def receive_webhook(mill: Ordermill, gateway_name: str, body: bytes,
                    headers: Mapping[str, str]) -> WebhookOutcome:
    """Verify, store once and apply one webhook delivery; never raises.

    200 for an applied, replayed, ignored or unknown-order event (the gateway must stop
    resending); 400 for a bad signature; 404 for an unknown gateway; 502/503/500 when the
    gateway should resend later (its API was down while we asked it, or a crash).
    """
    spec = mill.gateways.get(gateway_name)
    if spec is None or spec.parse_webhook is None:
        return _failure(404, "unknown_gateway", f"No webhook endpoint for {gateway_name!r}.")
    lowered = {str(key).lower(): str(value) for key, value in headers.items()}
    try:
        data = spec.parse_webhook(body=body, headers=lowered)
    except WebhookRejected as error:
        log.warning("rejected %s webhook: %s", gateway_name, error.message)
        return _failure(400, error.code, error.message)
    except OrdermillError as error:
        return _failure(error.http_status, error.code, error.message)
    except Exception as error:
        log.exception("%s webhook could not be parsed", gateway_name)
        failure = PluginError(f"gateway {gateway_name}", "parse_webhook", error)
        return _failure(502, failure.code, failure.message)
    if not isinstance(data, GatewayEventData):
        failure = PluginError(f"gateway {gateway_name}", "parse_webhook",
                              f"returned {data!r}, not a GatewayEventData")
        return _failure(502, failure.code, failure.message)
    return process_event(mill, gateway_name, data)


def process_event(mill: Ordermill, gateway_name: str, data: GatewayEventData) -> WebhookOutcome:
    """Store a verified event once, apply it, and write its outcome."""
    stored = _claim(mill, gateway_name, data)
    if stored is not None:
        return WebhookOutcome(200, {"received": data.event_id, "replay": True,
                                    "outcome": stored})
    try:
        outcome = apply_event(mill, gateway_name, data)
    except RetryLater as error:  # stays unclaimed: the gateway's resend applies it
        return _failure(503, error.code, error.message)
    except OrdermillError as error:
        outcome = f"failed: {error.message}"
        _flag(mill, data.order_number, f"{gateway_name} event {data.event_id} could not be "
                                       f"applied: {error.message}")
    except Exception:
        log.exception("%s event %s failed; the gateway will resend it", gateway_name,
                      data.event_id)
        return _failure(500, "internal_error", "The event could not be applied; resend it.")
    _finish(mill, gateway_name, data.event_id, outcome)
    return WebhookOutcome(200, {"received": data.event_id, "replay": False,
                                "outcome": outcome})


def _order_number(data: GatewayEventData) -> str | None:
    number = (data.order_number or "").strip()
    return number if len(number) == 10 and number.isdigit() else None


def _claim(mill: Ordermill, gateway: str, data: GatewayEventData) -> str | None:
    """Store the event; return its outcome when it was already applied (a replay).

    An event stored without an outcome was interrupted (or is being applied right now by a
    concurrent delivery): it is applied again, which is safe since applying is idempotent.
    """
    query = select(GatewayEvent).where(GatewayEvent.gateway == gateway,
                                       GatewayEvent.event_id == data.event_id)
    try:
        with mill.write_session() as session, session.begin():
            row = session.scalar(query)
            if row is not None:
                return row.outcome
            session.add(GatewayEvent(
                gateway=gateway, event_id=data.event_id, type=data.type[:100],
                order_number=_order_number(data), payload=_json(dict(data.raw)),
                outcome=None, received_at=utcnow(),
            ))
    except IntegrityError:  # a concurrent delivery stored it first
        with mill.read_session() as session:
            row = session.scalar(query)
            return row.outcome if row is not None else None
    return None


def _finish(mill: Ordermill, gateway: str, event_id: str, outcome: str) -> None:
    with mill.write_session() as session, session.begin():
        row = session.scalar(select(GatewayEvent).where(GatewayEvent.gateway == gateway,
                                                        GatewayEvent.event_id == event_id))
        if row is not None:
            row.outcome = outcome


def _flag(mill: Ordermill, number: str | None, text: str) -> None:
    """Best effort: tell the admin on the order that an event needs a look."""
    number = (number or "").strip()
    if not (len(number) == 10 and number.isdigit()):
        return
    try:
        mill.orders.record_gateway_notice(
            number, actor=gateway_actor("ordermill"), gateway="ordermill",
            event_id=f"flag:{text}"[:200], event_type="gateway_flagged", message=text,
            attention=text)
    except OrdermillError:
        log.warning("could not flag order %s: %s", number, text)


def apply_event(mill: Ordermill, gateway: str, data: GatewayEventData) -> str:
    """Apply a normalized event through the order service; return the outcome text."""
    if data.kind == "ignored":
        return f"ignored: {data.type}"
    number = _order_number(data)
    if number is None:
        return f"unknown order {data.order_number!r}: stored for the admin"
    try:
        order = mill.orders.get(number)
    except OrderNotFound:
        return f"unknown order {number}: stored for the admin"
    if data.currency and data.currency.upper() != order.currency:
        text = (f"{gateway} event {data.event_id} is in {data.currency.upper()}, order "
                f"{number} in {order.currency}")
        _notice(mill, gateway, data, number, "payment_flagged", text, attention=text)
        return f"flagged: {text}"
    if data.kind == "payment_succeeded":
        return _ensure_charge(mill, gateway, data, order, required=True)
    if data.kind == "refunded":
        charge = _ensure_charge(mill, gateway, data, order, required=True)
        results = [_record_refund(mill, gateway, data, number, refund.reference,
                                  refund.amount, refund.status) for refund in data.refunds]
        return "; ".join([charge, *results]) if results else charge
    if data.kind == "dispute":
        charge = _ensure_charge(mill, gateway, data, order, required=False)
        text = data.message or f"{gateway} opened dispute {data.event_id}"
        _notice(mill, gateway, data, number, "dispute", f"Dispute: {text}.", attention=text)
        return f"{charge}; dispute flagged"
    # payment_failed: the attempt is history, the order keeps waiting for its money
    text = data.message or "the payment attempt failed"
    _notice(mill, gateway, data, number, "payment_failed",
            f"{gateway} payment {data.reference or ''} failed: {text}.".replace("  ", " "))
    return "payment failure recorded"


def _charge_known(order: Order, gateway: str, reference: str) -> Payment | None:
    return next((p for p in order.payments if p.kind == "charge" and p.gateway == gateway
                 and p.gateway_reference == reference), None)


def _ensure_charge(mill: Ordermill, gateway: str, data: GatewayEventData, order: Order,
                   *, required: bool) -> str:
    """Record the event's charge unless it is recorded already (idempotent by reference)."""
    if not data.reference:
        raise InvalidInput(_("%(gateway)s event %(event_id)s names no payment reference.",
                             gateway=gateway, event_id=data.event_id))
    if _charge_known(order, gateway, data.reference) is not None:
        return f"payment {data.reference} already recorded"
    if data.amount is None or data.amount <= 0:
        if required:
            raise RetryLater(_("Payment %(reference)s of order %(number)s is not known yet and the "
                               "event does not carry its amount; resend later.",
                               reference=data.reference, number=order.number))
        return f"payment {data.reference} not known"
    invoice_id = data.invoice_id
    if invoice_id is not None and all(inv.id != invoice_id for inv in order.invoices):
        invoice_id = None
    try:
        mill.orders.record_payment(
            order.number, actor=gateway_actor(gateway), amount=data.amount, gateway=gateway,
            reference=data.reference, fee=data.fee, invoice_id=invoice_id,
            one_click=data.one_click, manual=False, note=f"{gateway} event {data.event_id}")
    except ActionNotAllowed as error:
        if error.details.get("reference") == data.reference:  # a concurrent delivery won
            return f"payment {data.reference} already recorded"
        raise
    return f"payment {data.reference} recorded"


def _record_refund(mill: Ordermill, gateway: str, data: GatewayEventData, number: str,
                   reference: str, amount: int, status: str) -> str:
    try:
        mill.orders.record_gateway_refund(
            number, actor=gateway_actor(gateway), gateway=gateway,
            charge_reference=data.reference or "", refund_reference=reference, amount=amount,
            status=status, note=f"{gateway} event {data.event_id}")
    except ActionNotAllowed as error:
        if error.details.get("duplicate"):
            return f"refund {reference} already recorded"
        raise
    return f"refund {reference} recorded"


def _notice(mill: Ordermill, gateway: str, data: GatewayEventData, number: str, event_type: str,
            message: str, *, attention: str | None = None) -> None:
    try:
        mill.orders.record_gateway_notice(
            number, actor=gateway_actor(gateway), gateway=gateway, event_id=data.event_id,
            event_type=event_type, message=message, attention=attention,
            data={"type": data.type, "reference": data.reference})
    except ActionNotAllowed as error:
        if not error.details.get("duplicate"):
            raise


def _json(value: Any) -> Any:
    """The payload as plain JSON types (a gateway SDK may hand over its own mappings)."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# ---------------------------------------------------------------------------------- paying


def _online_gateway(mill: Ordermill, order: Order, what: str) -> PaymentGatewaySpec:
    spec: PaymentGatewaySpec | None = mill.gateways.get(order.payment_method)
    if spec is None or getattr(spec, what) is None:
        label = spec.label if spec else order.payment_method
        raise ActionNotAllowed(
            _("Order %(number)s is paid by %(label)s, which takes no online payment: it waits for "
              "the money to be recorded by hand.", number=order.number, label=label),
            details={"gateway": order.payment_method})
    return spec


def _invoice_to_pay(order: Order, invoice_id: int | None) -> tuple[Invoice | None, int]:
    """The invoice this payment is for (the oldest unpaid one by default) and what it asks."""
    due = amount_due(order)
    if invoice_id is not None:
        invoice = next((inv for inv in order.invoices if inv.id == invoice_id), None)
        if invoice is None:
            raise NotFound(_("Order %(number)s has no invoice %(invoice_id)s.", number=order.number,
                             invoice_id=invoice_id))
        if invoice.status != "unpaid":
            raise ActionNotAllowed(_("Invoice %(invoice_id)s is %(status)s.", invoice_id=invoice_id,
                                     status=invoice.status))
    else:
        invoice = next((inv for inv in order.invoices if inv.status == "unpaid"), None)
    if invoice is None:
        return None, due
    paid_on_it = sum(p.amount for p in order.payments if p.kind == "charge"
                     and p.status == "succeeded" and p.invoice_id == invoice.id)
    return invoice, min(invoice.amount - paid_on_it, due)


def start_payment(mill: Ordermill, number: str, actor: Actor, *,
                  invoice_id: int | None = None) -> dict[str, Any]:
    """Ask the order's gateway to start an online payment for the next unpaid invoice.

    The idempotency key is derived from the invoice and the amount, so a retried request
    (double click, network error) reuses the gateway's first answer instead of charging twice.
    """
    require(actor, "place_orders")
    order = mill.orders.get(number)
    if mill.statuses.category(order.status) in ENDED_CATEGORIES:
        raise ActionNotAllowed(_("Order %(number)s is %(status)s; it takes no payment.",
                                 number=order.number, status=order.status))
    spec = _online_gateway(mill, order, "start_payment")
    invoice, amount = _invoice_to_pay(order, invoice_id)
    if amount <= 0:
        raise ActionNotAllowed(_("Order %(number)s has nothing left to pay.", number=order.number))
    key = (f"ordermill-invoice-{invoice.id}-{amount}" if invoice is not None
           else f"ordermill-order-{order.number}-{amount}")
    assert spec.start_payment is not None
    try:
        answer = spec.start_payment(order=order, invoice=invoice, amount=amount,
                                    currency=order.currency, idempotency_key=key)
    except OrdermillError:
        raise
    except Exception as error:
        raise PluginError(f"gateway {spec.name}", "start_payment", error) from error
    return {"gateway": spec.name, "number": order.number,
            "invoice_id": invoice.id if invoice is not None else None,
            "amount": money_text(amount, order.currency), "currency": order.currency,
            "idempotency_key": key, **dict(answer)}


def capture_payment(mill: Ordermill, number: str, actor: Actor,
                    data: Mapping[str, Any]) -> dict[str, Any]:
    """Finish a payment the buyer approved (PayPal) and record it, as its webhook would."""
    require(actor, "place_orders")
    order = mill.orders.get(number)
    spec = _online_gateway(mill, order, "capture_payment")
    assert spec.capture_payment is not None
    try:
        event = spec.capture_payment(order=order, data=dict(data))
    except OrdermillError:
        raise
    except Exception as error:
        raise PluginError(f"gateway {spec.name}", "capture_payment", error) from error
    if event.order_number != order.number:
        raise InvalidInput(_("The %(label)s payment belongs to order %(order_number)s, not "
                             "%(number)s.", label=spec.label, order_number=event.order_number,
                             number=order.number))
    outcome = apply_event(mill, spec.name, event)
    order = mill.orders.get(number)
    return {"gateway": spec.name, "number": order.number, "outcome": outcome,
            "reference": event.reference, "payment_status": payment_status(order)}
