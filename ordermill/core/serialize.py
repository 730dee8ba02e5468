"""Plain-dict views of orders for the API, the CLI, snapshots and e-mails.

Money leaves as decimal strings ("12.50") with the currency beside; derived statuses are
computed here from lines and payments, never read from a stored copy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ordermill.core.adjustments import Adjustment, adjustments_of
from ordermill.core.invoice_models import CreditNote
from ordermill.core.labels import event_message
from ordermill.core.models import FraudCheck, Invoice, Order, OrderEvent, OrderLine, Payment
from ordermill.core.money import Money
from ordermill.core.statuses import (
    amount_due,
    line_summary,
    money_totals,
    payment_status,
)
from ordermill.core.tax_models import loaded


def money_text(amount: int, currency: str) -> str:
    return Money(amount, currency).to_decimal_string()


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def line_to_dict(line: OrderLine, currency: str) -> dict[str, Any]:
    return {
        "id": line.id, "sku": line.sku, "name": line.name, "category": line.category,
        "kind": line.kind, "quantity": line.quantity,
        "unit_price": money_text(line.unit_price, currency),
        "discount": money_text(line.discount, currency),
        "tax": money_text(line.tax, currency),
        "total": money_text(line.total, currency), "status": line.status,
        "refunded": money_text(line.refunded_amount, currency),
        "units_held": line.units_held, "units_released": line.units_released,
        "attendee": line.attendee, "domain": line.domain, "billing_cycle": line.billing_cycle,
        "provisioning_status": line.provisioning_status, "options": line.options,
        "parent_line_id": line.parent_line_id,
    }


def invoice_to_dict(invoice: Invoice) -> dict[str, Any]:
    """`status` is the document's lifecycle (draft, issued, void); `payment_status` its
    money (unpaid, paid, cancelled)."""
    return {
        "id": invoice.id, "number": invoice.number,
        "amount": money_text(invoice.amount, invoice.currency),
        "currency": invoice.currency, "status": invoice.state,
        "payment_status": invoice.status,
        "description": invoice.description, "created_at": _when(invoice.created_at),
        "issued_at": _when(invoice.issued_at), "voided_at": _when(invoice.voided_at),
        "paid_at": _when(invoice.paid_at),
    }


def credit_note_to_dict(note: CreditNote) -> dict[str, Any]:
    return {
        "id": note.id, "number": note.number, "invoice_id": note.invoice_id,
        "invoice_number": (note.snapshot or {}).get("invoice_number"),
        "refund_id": note.refund_id, "reason": note.reason,
        "amount": money_text(note.amount, note.currency),
        "tax": money_text(note.tax, note.currency),
        "tax_breakdown": {rate: money_text(value, note.currency)
                          for rate, value in (note.tax_breakdown or {}).items()},
        "currency": note.currency, "issued_at": _when(note.issued_at),
    }


def payment_to_dict(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id, "kind": payment.kind, "status": payment.status,
        "gateway": payment.gateway, "gateway_reference": payment.gateway_reference,
        "invoice_id": payment.invoice_id, "refund_of_id": payment.refund_of_id,
        "amount": money_text(payment.amount, payment.currency),
        "fee": money_text(payment.fee, payment.currency),
        "net": money_text(payment.net, payment.currency), "currency": payment.currency,
        "one_click": payment.one_click, "manual": payment.manual, "note": payment.note,
        "created_at": _when(payment.created_at),
        # a refund's tax per rate (core.refund_tax): net + tax of its rows is its amount
        "tax": [{"part": row.part,
                 "rate": format(row.rate.normalize(), "f") if row.rate is not None else None,
                 "net": money_text(row.net, payment.currency),
                 "tax": money_text(row.tax, payment.currency)}
                for row in (payment.refund_taxes  # type: ignore[attr-defined]
                            if loaded(payment, "refund_taxes") else ())],
    }


def fraud_check_to_dict(check: FraudCheck) -> dict[str, Any]:
    return {
        "provider": check.provider, "status": check.status,
        "score": str(check.score) if check.score is not None else None,
        "reasons": check.reasons, "error": check.error, "raw": check.raw,
        "created_at": _when(check.created_at),
    }


def event_to_dict(event: OrderEvent) -> dict[str, Any]:
    return {
        "id": event.id, "type": event.type, "actor": event.actor,
        # in the reader's language (use_locale; English by default); message_id + params let a
        # client translate it itself (NULL for events older than issue 21)
        "message": event_message(event), "message_id": event.message_id,
        "params": event.params,
        "status_from": event.status_from, "status_to": event.status_to,
        "comment": event.comment, "notify_customer": event.notify_customer,
        "visible_to_customer": event.visible_to_customer, "data": event.data,
        "created_at": _when(event.created_at),
    }


def adjustment_to_dict(item: Adjustment, currency: str) -> dict[str, Any]:
    return {
        "stage": item.stage, "kind": item.kind, "label": item.label,
        "amount": money_text(int(item.amount), currency), "line_id": item.line_id,
        "rate": format(item.rate.normalize(), "f") if item.rate is not None else None,
        "code": item.code, "included": item.included, "source": item.source,
    }


def adjustments_to_list(order: Order) -> list[dict[str, Any]]:
    if not loaded(order, "adjustments"):
        return []
    return [adjustment_to_dict(item, order.currency) for item in adjustments_of(order)]


def pricing_summary(order: Order) -> dict[str, str]:
    """The money fields of an order, as the placed event records them."""
    currency = order.currency
    return {"subtotal": money_text(order.subtotal, currency),
            "discount": money_text(order.discount, currency),
            "fee_total": money_text(order.fee_total, currency),
            "tax_total": money_text(order.tax_total, currency),
            "total_excl_tax": money_text(order.total - order.tax_total, currency)}


def pricing_preview(order: Order) -> dict[str, Any]:
    """What a dry run of placement shows of the price: totals, lines and every adjustment."""
    return {"currency": order.currency, "total": money_text(order.total, order.currency),
            **pricing_summary(order),
            "lines": [{"id": line.id, "sku": line.sku, "name": line.name,
                       "quantity": line.quantity,
                       "discount": money_text(line.discount, order.currency),
                       "tax": money_text(line.tax, order.currency),
                       "total": money_text(line.total, order.currency)}
                      for line in order.lines],
            "adjustments": adjustments_to_list(order)}


def order_to_dict(order: Order, *, events: list[OrderEvent] | None = None) -> dict[str, Any]:
    """The order with lines, invoices, payments, fraud checks and derived statuses."""
    totals = money_totals(order)
    currency = order.currency
    data: dict[str, Any] = {
        "number": order.number, "status": order.status,
        "payment_status": payment_status(order), "summary": line_summary(order),
        "version": order.version, "currency": currency,
        "subtotal": money_text(order.subtotal, currency),
        "discount": money_text(order.discount, currency),
        "fee_total": money_text(order.fee_total, currency),
        "tax_total": money_text(order.tax_total, currency),
        "total": money_text(order.total, currency),
        "total_excl_tax": money_text(order.total - order.tax_total, currency),
        "adjustments": adjustments_to_list(order),
        "amount_due": money_text(amount_due(order), currency),
        "captured": money_text(totals.captured, currency),
        "refunded": money_text(totals.refunded, currency),
        "quantity": sum(line.quantity for line in order.lines),
        "buyer": {"name": order.buyer_name, "email": order.buyer_email,
                  "phone": order.buyer_phone, "billing_address": order.billing_address,
                  "language": order.language, "vat_id": order.vat_id},
        "promo_code": order.promo_code, "payment_method": order.payment_method,
        "customer_ip": order.customer_ip, "affiliate": order.affiliate,
        "sales_manager_id": order.sales_manager_id,
        "customer_note": order.customer_note, "needs_attention": order.needs_attention,
        "fraud_score": str(order.fraud_score) if order.fraud_score is not None else None,
        "plugin_data": dict(order.plugin_data or {}),
        "placed_at": _when(order.placed_at), "invoiced_at": _when(order.invoiced_at),
        "paid_at": _when(order.paid_at), "accepted_at": _when(order.accepted_at),
        "dispatched_at": _when(order.dispatched_at), "delivered_at": _when(order.delivered_at),
        "cancelled_at": _when(order.cancelled_at),
        "lines": [line_to_dict(line, currency) for line in order.lines],
        "invoices": [invoice_to_dict(invoice) for invoice in order.invoices],
        "credit_notes": [credit_note_to_dict(note) for note in order.credit_notes],
        "payments": [payment_to_dict(payment) for payment in order.payments],
        "fraud_checks": [fraud_check_to_dict(check) for check in order.fraud_checks],
    }
    if events is not None:
        data["history"] = [event_to_dict(event) for event in events]
    return data
