"""Deleting an order: the order goes, its books stay.

An order may be deleted when it is unpaid, cancelled or fraud and keeps no money (osConcert,
WHMCS DeleteOrder). Its lines, fraud checks and plugin rows go with it, its stock goes back
on sale or is written off, and the deletion event keeps a snapshot in the history.

Its payments, invoices and credit notes are the shop's books, though: a fully refunded
Stripe order still cost the fee Stripe kept, and erasing the charge and the refund would make
the books stop balancing. So they are kept, detached: `order_id` becomes NULL and
`order_number` keeps the deleted order's reference. Issued invoices not yet refunded get a
credit note for the rest (core.invoicing.credit_unrefunded), numbered like any other. The
order itself disappears from every list and lookup (its row is gone); the payments list and
export still show its money under the old number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordermill.core import invoicing
from ordermill.core.catalogue import promo_uses, stock_ledger
from ordermill.core.context import ActionContext, message_columns
from ordermill.core.errors import ActionNotAllowed
from ordermill.core.i18n import event_msg, event_ngettext
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import money_display
from ordermill.core.models import OrderEvent, utcnow
from ordermill.core.permissions import require
from ordermill.core.serialize import money_text, order_to_dict
from ordermill.core.specs import Actor
from ordermill.core.statuses import ENDED_CATEGORIES, money_totals

if TYPE_CHECKING:
    from ordermill.core.orders import ActionResult, OrderService


def delete_order(service: OrderService, number: str, *, actor: Actor, restock: bool,
                 expected_version: int | None = None, dry_run: bool = False) -> ActionResult:
    """Delete the order for good; keep its payments and invoices under its number."""
    from ordermill.core.orders import ActionResult, Change, _jsonable, _valid_number

    require(actor, "delete_orders")
    number = _valid_number(number)
    ctx = ActionContext(service.mill, actor, "delete", dry_run=dry_run)
    with service._transaction(ctx) as session:
        order = service._lock_order(session, number, expected_version)
        before = service._state(order)
        totals = money_totals(order)
        category = service._category(order)
        if totals.net > 0:
            raise ActionNotAllowed(
                _("Order %(number)s has %(value)s paid. Refund it before deleting.", number=number,
                  value=money_display(totals.net, order.currency)),
                details={"paid": money_text(totals.net, order.currency)})
        # closed or fraud orders with no money kept may go; open ones only if never paid
        # (a free order counts as unpaid here: nothing was captured)
        if category not in ENDED_CATEGORIES and totals.captured > 0:
            raise ActionNotAllowed(_("Only unpaid, cancelled or fraud orders can be deleted; "
                                     "order %(number)s is %(status)s and was paid: cancel it "
                                     "first.", number=number, status=order.status))
        released = 0
        if restock:
            for line in order.lines:
                released += service._release(order, line, ctx)
        stock_ledger.write_off_closed_lines(session, order.lines, number, actor.label,
                                            closing=True)
        promo_uses.release_on_delete(session, order)
        snapshot = order_to_dict(order)  # the order as it was, before its closing credits
        credited = invoicing.credit_unrefunded(order)  # the books close on every invoice
        kept_payments = [payment.id for payment in order.payments]
        kept_invoices = [invoice.id for invoice in order.invoices]
        deleted = (event_msg("Order deleted for good, stock released") if released else
                   event_msg("Order deleted for good, no stock left to return") if restock
                   else event_msg("Order deleted for good, stock not returned"))
        message = event_ngettext("%(deleted)s; its %(num)s payment stay in the books.",
                                 "%(deleted)s; its %(num)s payments stay in the books.",
                                 len(kept_payments), deleted=deleted) \
            if kept_payments else event_msg("%(deleted)s.", deleted=deleted)
        change = Change("deleted", message,
                        data={"restock": restock, "units_released": released,
                              "units_written_off": sum(line.units_held - line.units_released
                                                       for line in order.lines),
                              "kept_payments": kept_payments,
                              "kept_invoices": kept_invoices,
                              "credit_notes_issued": len(credited),
                              "snapshot": snapshot})
        preview = service._preview("delete", order, before, change, ctx)
        event = OrderEvent(order_id=None, order_number=number, type="deleted",
                           actor=actor.label, **message_columns(change.message),
                           status_from=order.status, data=_jsonable(change.data),
                           created_at=utcnow())
        session.add(event)
        ctx.notes["action_event"] = event  # the credit notes' numbers are named on it
        for record in (*order.payments, *order.invoices, *order.credit_notes):
            record.order_number = number
            record.order_id = None
        session.flush()
        session.delete(order)
        session.flush()
        service._queue_jobs(session, order, event, ctx)
        preview["jobs"] = [job.kind for job in ctx.jobs]
    if dry_run:
        return ActionResult(None, None, preview, dry_run=True)
    failures = list(service.mill.plugins.call("on_delete", order_number=number,
                                              snapshot=snapshot, ctx=ctx).failures)
    if failures:
        service._record_hook_failures(None, number, failures, ctx)
    return ActionResult(order, event, preview, hook_failures=tuple(failures))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


__all__ = ["delete_order"]
