"""Subscriptions as the API, the admin and the CLI show them: plan, schedule, payments,
remaining payments and next date, and the actions the status allows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.api import Actor, InvalidInput, NotFound, money_text, require
from ordermill.plugins.subscriptions.engine import allowed_actions, step
from ordermill.plugins.subscriptions.models import STATUS_LABELS, STATUSES, Subscription

if TYPE_CHECKING:
    from ordermill.api import Ordermill

SCHEDULE_SHOWN = 12  # upcoming dates listed for an open-ended subscription


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def to_dict(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id, "order_number": sub.order_number, "status": sub.status,
        "status_label": STATUS_LABELS[sub.status],
        "interval": f"{sub.interval_count} {sub.interval_unit}",
        "count": sub.total_count, "payments_made": sub.payments_made,
        "remaining": sub.remaining, "amount": money_text(sub.amount, sub.currency),
        "currency": sub.currency, "gateway": sub.gateway,
        "has_saved_method": bool(sub.saved_method),
        "next_due_at": _when(sub.next_due_at) if sub.remaining != 0 else None,
        "current_invoice_id": sub.current_invoice_id, "failed_attempts": sub.attempts,
        "next_attempt_at": _when(sub.next_attempt_at), "last_error": sub.last_error,
        "actions": allowed_actions(sub), "created_at": _when(sub.created_at),
        "ended_at": _when(sub.ended_at),
    }


def list_subscriptions(mill: Ordermill, *, actor: Actor, status: str | None = None,
                       limit: int = 200) -> list[dict[str, Any]]:
    require(actor, "view_orders")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Unknown status {status!r}; use {', '.join(STATUSES)}.",
                           details={"field": "status"})
    query = select(Subscription).order_by(Subscription.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Subscription.status == status)
    with mill.read_session() as session:
        return [to_dict(sub) for sub in session.scalars(query)]


def get_subscription(mill: Ordermill, subscription_id: int, *, actor: Actor
                     ) -> dict[str, Any]:
    """One subscription with its schedule and the payments made on its order."""
    require(actor, "view_orders")
    with mill.read_session() as session:
        sub = session.get(Subscription, subscription_id)
        if sub is None:
            raise NotFound(f"No subscription {subscription_id}.",
                           details={"subscription": subscription_id})
        found = to_dict(sub)
        upcoming = []
        if sub.next_due_at is not None and sub.status not in ("completed", "failed"):
            shown = sub.remaining if sub.remaining is not None else SCHEDULE_SHOWN
            upcoming = [_when(step(sub, sub.next_due_at, k)) for k in range(min(shown, 60))]
    order = mill.orders.get(found["order_number"])
    found["schedule"] = upcoming
    found["invoices"] = [
        {"id": inv.id, "kind": inv.kind, "status": inv.status, "description": inv.description,
         "amount": money_text(inv.amount, inv.currency), "due_at": _when(inv.due_at),
         "paid_at": _when(inv.paid_at)} for inv in order.invoices]
    found["payments"] = [
        {"id": p.id, "kind": p.kind, "status": p.status, "gateway": p.gateway,
         "amount": money_text(p.amount, p.currency), "invoice_id": p.invoice_id,
         "created_at": _when(p.created_at)} for p in order.payments]
    return found


def subscription_of_order(mill: Ordermill, number: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Subscription.id)
                              .where(Subscription.order_number == number))
