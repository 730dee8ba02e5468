"""Invoices and money movements of an order: keeping invoices in step, refund allocation.

Everything here works on an order loaded with its lines, invoices and payments, inside the
action's transaction; nothing commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from ordermill.core import invoicing
from ordermill.core.adjustments import line_fee_share
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Invoice, Order, OrderLine, Payment, utcnow
from ordermill.core.statuses import amount_due, money_totals


def new_invoice(order: Order, amount: int, description: str) -> Invoice:
    invoice = Invoice(amount=amount, currency=order.currency, status="unpaid", state="draft",
                      description=description, created_at=utcnow())
    order.invoices.append(invoice)
    if order.invoiced_at is None:
        order.invoiced_at = invoice.created_at
    return invoice


def add_renewal_invoice(order: Order, amount: int, description: str, *,
                        due_at: dt.datetime | None = None) -> Invoice:
    """Bill a further period on the order (WHMCS renewals): an unpaid invoice of kind
    "renewal" that adds `amount` to what the order owes, due at `due_at`.

    Call it inside an action's transaction on the locked order (`mill.orders.editing`) and
    write the event there; the invoice's id exists after `session.flush()`. Invoice numbering
    and drafts, when the core has them, apply here as to every invoice.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(_("A renewal invoice must ask for more than zero."),
                           details={"field": "amount"})
    invoice = new_invoice(order, amount, description)
    invoice.kind = "renewal"
    invoice.due_at = due_at
    return invoice


def sync_invoices(order: Order, *, allow_new: bool = False) -> None:
    """Make open invoices match what is owed.

    Marks unpaid invoices paid (oldest first) as far as captured money covers them, trims
    open invoices (newest first) when lines were cancelled, and, when `allow_new`, adds an
    invoice for anything owed that no open invoice asks for (products added to the order).
    """
    line_refunds = sum(line.refunded_amount for line in order.lines)
    captured = money_totals(order).captured
    kept_for_lines = captured - line_refunds
    live = [inv for inv in order.invoices if inv.status != "cancelled"]
    paid_total = sum(inv.amount for inv in live if inv.status == "paid")
    coverage = kept_for_lines - paid_total
    due = amount_due(order)
    if due == 0:
        # Nothing is owed. Money received beyond the paid invoices pays open ones (a line
        # refunded out of a paid invoice must not make a later payment look missing); the
        # rest of the open invoices is cancelled below.
        coverage = max(coverage, captured - paid_total)
    open_invoices = [inv for inv in live if inv.status == "unpaid"]
    for invoice in list(open_invoices):
        if coverage >= invoice.amount:
            invoice.status = "paid"
            invoice.paid_at = utcnow()
            coverage -= invoice.amount
            open_invoices.remove(invoice)
        else:
            break
    # open invoices ask for what is due, plus what is already paid of a part-paid invoice
    target = due + max(0, coverage) if due > 0 else 0
    open_total = sum(inv.amount for inv in open_invoices)
    excess = open_total - target
    for invoice in reversed(open_invoices):
        if excess <= 0:
            break
        cut = min(excess, invoice.amount)
        if cut == invoice.amount:
            invoice.status = "cancelled"
            invoicing.void(invoice)
        elif invoice.state == "draft":
            invoice.amount -= cut
        else:  # an issued invoice never changes: void it, issue one for what is still asked
            invoice.status = "cancelled"
            invoicing.void(invoice)
            invoicing.issue(order, new_invoice(order, invoice.amount - cut,
                                               invoice.description or "Order"))
        excess -= cut
    if excess < 0 and allow_new:
        added = new_invoice(order, -excess, "Products added to the order")
        if invoicing.has_issued(order):
            invoicing.issue(order, added)


def cancel_open_invoices(order: Order) -> list[int]:
    """Cancel every unpaid invoice (fraud, whole cancel); return their ids."""
    cancelled = []
    for invoice in order.invoices:
        if invoice.status == "unpaid":
            invoice.status = "cancelled"
            invoicing.void(invoice)
            cancelled.append(invoice.id)
    return cancelled


def reopen_invoices(order: Order, invoice_ids: Sequence[int]) -> None:
    """Back to pending after fraud: the invoices fraud cancelled are unpaid again (WHMCS)."""
    for invoice in order.invoices:
        if invoice.id in invoice_ids and invoice.status == "cancelled":
            invoice.status = "unpaid"
            invoicing.unvoid(invoice)
    sync_invoices(order)


def refundable_by_charge(order: Order) -> list[tuple[Payment, int]]:
    """Each succeeded charge with what can still be refunded from it, newest first."""
    refunded: dict[int, int] = {}
    for payment in order.payments:
        if payment.kind == "refund" and payment.status in ("succeeded", "pending") \
                and payment.refund_of_id is not None:
            refunded[payment.refund_of_id] = refunded.get(payment.refund_of_id, 0) + payment.amount
    result = []
    for payment in sorted(order.payments, key=lambda p: p.id or 0, reverse=True):
        if payment.kind == "charge" and payment.status == "succeeded":
            left = payment.amount - refunded.get(payment.id, 0)
            if left > 0:
                result.append((payment, left))
    return result


def refundable_total(order: Order) -> int:
    return sum(left for _charge, left in refundable_by_charge(order))


@attrs.frozen
class RefundPortion:
    charge: Payment
    amount: int


def plan_refund(order: Order, amount: int) -> list[RefundPortion]:
    """Split a refund over charges, newest first (the caller checked it fits)."""
    portions = []
    remaining = amount
    for charge, left in refundable_by_charge(order):
        if remaining <= 0:
            break
        take = min(left, remaining)
        portions.append(RefundPortion(charge, take))
        remaining -= take
    return portions


def line_value_left(line: OrderLine, order: Order | None = None) -> int:
    """What a refund of the line may still return: its total (tax included) and its share
    of the order's fees, less what was refunded for it. Pass `order` when the line is not
    in a session (a page drawn after the transaction)."""
    owner = order if order is not None else line.order
    return line.total + line_fee_share(owner, line) - line.refunded_amount
