"""What a dry run says: the action's outcome in the future tense, before anyone confirms.

The history records what happened ("Order cancelled. Stock released."); a preview shown
before Confirm must say what will happen ("Will cancel the order and release 2 tickets.").
`plan_message` builds that sentence from the same dry run (the change's data, the stock the
run released, the refunds it planned), so the preview cannot promise other work than the
action does. Remarks the action adds for the person (a refund to pay back by hand, a gateway
not configured) follow the sentence as they are. Every sentence is a literal here, one place
to translate later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ordermill.core.gateway_refunds import refund_remarks
from ordermill.core.labels import money_display, status_label

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order
    from ordermill.core.orders.runner import Change

# how released stock is counted: tickets by kind, everything else as units
UNITS = {"ticket": ("1 ticket", "{count} tickets"), "": ("1 unit", "{count} units")}
PLANS = {
    "cancel_order": "Will cancel the order",
    "cancel_lines": "Will cancel {lines}",
    "release": "{sentence} and release {units}.",
    "keep_stock": "{sentence}; the stock stays held.",
    "plain": "{sentence}.",
    "refund": "Will refund {amount}",
    "refund_lines": "Will refund {amount} for {lines}",
    "cancel_and_refund": "Will cancel the order and refund {amount}",
    "cancel_nothing_paid": "Will cancel the order; nothing was paid, so nothing is refunded",
    "payment": "Will record {amount} as received",
    "payment_paid": "Will record {amount} as received; the order will then be paid.",
    "status": "Will move the order from {source} to {target}.",
    "placed": "Will place the order for {amount}.",
    "accepted": "Will accept the order.",
    "fraud": "Will set the order as fraud and cancel its open invoices.",
    "pending": "Will set the order back to pending.",
    "delete": "Will delete the order for good",
    "lines_added": "Will add {lines}.",
    "buyer_edited": "Will change the buyer's details.",
    "comment": "Will add the comment.",
    "dispatched": "Will mark the order dispatched.",
    "delivered": "Will mark the order delivered.",
    "customer_links_revoked": "Will revoke the customer's order links.",
    "other": "If you confirm: {message}",
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
    count = sum(released.values())
    kinds = {line.kind for line in order.lines if line.sku in released}
    singular, plural = UNITS["ticket"] if kinds == {"ticket"} else UNITS[""]
    return singular if count == 1 else plural.format(count=count)


def _with_stock(order: Order, sentence: str, data: Mapping[str, Any],
                ctx: ActionContext) -> str:
    released = {sku: units for sku, units in
                (ctx.notes.get("stock_released") or {}).items() if units}
    if released:
        return PLANS["release"].format(sentence=sentence, units=_units(order, released))
    if data.get("stock_kept"):
        return PLANS["keep_stock"].format(sentence=sentence)
    return PLANS["plain"].format(sentence=sentence)


def _refunded(order: Order, ctx: ActionContext) -> int:
    return sum(int(refund["amount_minor"]) for refund in ctx.notes.get("refunds", []))


def plan_message(order: Order, before: Mapping[str, Any], change: Change,
                 ctx: ActionContext) -> str:
    """The dry run's outcome as "Will ..." sentences (see the module docstring)."""
    data = change.data
    kind = change.event_type
    money = order.currency
    if kind == "cancelled":
        sentence = PLANS["cancel_order"] if data.get("whole_order") else \
            PLANS["cancel_lines"].format(lines=_names(order, data.get("line_ids") or [],
                                                      data.get("lines")))
        return _with_stock(order, sentence, data, ctx)
    if kind == "refunded" and "line_ids" in data:
        amount = money_display(_refunded(order, ctx), money)
        lines = _names(order, data.get("line_ids") or [], data.get("lines"))
        sentence = PLANS["refund_lines"].format(amount=amount, lines=lines) if lines \
            else PLANS["refund"].format(amount=amount)
        return _with_stock(order, sentence, data, ctx) + refund_remarks(ctx)
    if kind == "cancelled_and_refunded":
        refunded = _refunded(order, ctx)
        sentence = PLANS["cancel_and_refund"].format(amount=money_display(refunded, money)) \
            if refunded else PLANS["cancel_nothing_paid"]
        return _with_stock(order, sentence, data, ctx) \
            + refund_remarks(ctx, offline_gateways=False)
    if kind in ("payment", "payment_flagged") and "payment_id" in data:
        payment = next((p for p in order.payments if p.id == data["payment_id"]), None)
        amount = money_display(payment.amount if payment else 0, money)
        if data.get("paid"):
            return PLANS["payment_paid"].format(amount=amount)
        return PLANS["plain"].format(sentence=PLANS["payment"].format(amount=amount))
    if kind in ("status_changed", "bulk_status_changed"):
        return PLANS["status"].format(source=status_label(ctx.mill, before.get("status")),
                                      target=status_label(ctx.mill, order.status))
    if kind == "deleted":
        return _with_stock(order, PLANS["delete"], data, ctx)
    if kind == "placed":
        return PLANS["placed"].format(amount=money_display(order.total, money))
    if kind == "lines_added":
        ids = [line["id"] for line in data.get("lines", [])]
        return PLANS["lines_added"].format(lines=_names(order, ids))
    if kind in PLANS:
        return PLANS[kind]
    return PLANS["other"].format(message=change.message)


__all__ = ["PLANS", "plan_message"]
