"""What a dry run says: the action's outcome in the future tense, before anyone confirms.

The history records what happened ("Order cancelled. Stock released."); a preview shown
before Confirm must say what will happen ("Will cancel the order and release 2 tickets.").
`plan_message` builds that sentence from the same dry run (the change's data, the stock the
run released, the refunds it planned), so the preview cannot promise other work than the
action does. Remarks the action adds for the person (a refund to pay back by hand, a gateway
not configured) follow the sentence as they are. Every sentence is a literal here, one place
translated when shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ordermill.core.gateway_refunds import refund_remarks
from ordermill.core.i18n import N_, ngettext
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import money_shown, shown_message, status_label

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order
    from ordermill.core.orders.runner import Change

PLANS = {
    "cancel_order": N_("Will cancel the order"),
    "cancel_lines": N_("Will cancel %(lines)s"),
    "release": N_("%(sentence)s and release %(units)s."),
    "keep_stock": N_("%(sentence)s; the stock stays held."),
    "plain": N_("%(sentence)s."),
    "refund": N_("Will refund %(amount)s"),
    "refund_lines": N_("Will refund %(amount)s for %(lines)s"),
    "cancel_and_refund": N_("Will cancel the order and refund %(amount)s"),
    "cancel_nothing_paid": N_("Will cancel the order; nothing was paid, so nothing is refunded"),
    "payment": N_("Will record %(amount)s as received"),
    "payment_paid": N_("Will record %(amount)s as received; the order will then be paid."),
    "status": N_("Will move the order from %(source)s to %(target)s."),
    "placed": N_("Will place the order for %(amount)s."),
    "accepted": N_("Will accept the order."),
    "fraud": N_("Will set the order as fraud and cancel its open invoices."),
    "pending": N_("Will set the order back to pending."),
    "delete": N_("Will delete the order for good"),
    "lines_added": N_("Will add %(lines)s."),
    "buyer_edited": N_("Will change the buyer's details."),
    "comment": N_("Will add the comment."),
    "dispatched": N_("Will mark the order dispatched."),
    "delivered": N_("Will mark the order delivered."),
    "customer_links_revoked": N_("Will revoke the customer's order links."),
    "other": N_("If you confirm: %(message)s"),
}


def _names(order: Order, line_ids: Sequence[int],
           chosen: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The chosen lines as "Seat x1": with the units chosen (the event's `lines`) when some
    units of a line were picked, else the whole line's quantity."""
    units = {int(entry["id"]): int(entry["quantity"]) for entry in chosen or ()
             if entry.get("quantity") is not None}
    wanted = set(line_ids)
    return ", ".join(f"{line.name} x{units.get(line.id, line.quantity)}"
                     for line in order.lines if line.id in wanted)


def _units(order: Order, released: Mapping[str, int]) -> str:
    """Released stock counted as tickets when only tickets were released, else as units."""
    count = sum(released.values())
    kinds = {line.kind for line in order.lines if line.sku in released}
    if kinds == {"ticket"}:
        return ngettext("%(num)s ticket", "%(num)s tickets", count)
    return ngettext("%(num)s unit", "%(num)s units", count)


def _plan(key: str, **params: Any) -> str:
    return _(PLANS[key], **params)


def _with_stock(order: Order, sentence: str, data: Mapping[str, Any],
                ctx: ActionContext) -> str:
    released = {sku: units for sku, units in
                (ctx.notes.get("stock_released") or {}).items() if units}
    if released:
        return _plan("release", sentence=sentence, units=_units(order, released))
    if data.get("stock_kept"):
        return _plan("keep_stock", sentence=sentence)
    return _plan("plain", sentence=sentence)


def _refunded(order: Order, ctx: ActionContext) -> int:
    return sum(int(refund["amount_minor"]) for refund in ctx.notes.get("refunds", []))


def plan_message(order: Order, before: Mapping[str, Any], change: Change,
                 ctx: ActionContext) -> str:
    """The dry run's outcome as "Will ..." sentences (see the module docstring)."""
    data = change.data
    kind = change.event_type
    money = order.currency
    if kind == "cancelled":
        sentence = _plan("cancel_order") if data.get("whole_order") else \
            _plan("cancel_lines", lines=_names(order, data.get("line_ids") or [],
                                               data.get("lines")))
        return _with_stock(order, sentence, data, ctx)
    if kind == "refunded" and "line_ids" in data:
        amount = money_shown(_refunded(order, ctx), money)
        lines = _names(order, data.get("line_ids") or [], data.get("lines"))
        sentence = _plan("refund_lines", amount=amount, lines=lines) if lines \
            else _plan("refund", amount=amount)
        return _with_stock(order, sentence, data, ctx) + shown_message(refund_remarks(ctx),
                                                                       ctx.mill)
    if kind == "cancelled_and_refunded":
        refunded = _refunded(order, ctx)
        sentence = _plan("cancel_and_refund", amount=money_shown(refunded, money)) \
            if refunded else _plan("cancel_nothing_paid")
        return _with_stock(order, sentence, data, ctx) \
            + shown_message(refund_remarks(ctx, offline_gateways=False), ctx.mill)
    if kind in ("payment", "payment_flagged") and "payment_id" in data:
        payment = next((p for p in order.payments if p.id == data["payment_id"]), None)
        amount = money_shown(payment.amount if payment else 0, money)
        if data.get("paid"):
            return _plan("payment_paid", amount=amount)
        return _plan("plain", sentence=_plan("payment", amount=amount))
    if kind in ("status_changed", "bulk_status_changed"):
        return _plan("status", source=status_label(ctx.mill, before.get("status")),
                     target=status_label(ctx.mill, order.status))
    if kind == "deleted":
        return _with_stock(order, _plan("delete"), data, ctx)
    if kind == "placed":
        return _plan("placed", amount=money_shown(order.total, money))
    if kind == "lines_added":
        ids = [line["id"] for line in data.get("lines", [])]
        return _plan("lines_added", lines=_names(order, ids))
    if kind in PLANS:
        return _plan(kind)
    return _plan("other", message=shown_message(change.message, ctx.mill))


__all__ = ["PLANS", "plan_message"]
