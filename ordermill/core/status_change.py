"""Plain status changes (`set_status`, `bulk_set_status`) that respect the named actions.

A status change moves an order between statuses of the registry without running module
commands (provisioning, registrars), as WHMCS's mass update does. It must not become a back
door around the named actions, though: a move that changes the order's *category* into or
out of one the core treats specially needs the permission of the named action that makes
the same move, and gets the core's own bookkeeping for it:

* into fraud (`mark_fraud`, manage_fraud): open invoices are cancelled;
* out of fraud (`set_back_to_pending`, manage_fraud): the invoices fraud cancelled are
  unpaid again, unless the order goes on to a closed status;
* into cancelled (`cancel`, edit_orders): active lines are cancelled, their stock released,
  open invoices cancelled;
* into or out of active (`accept`, edit_orders): only the permission (no accept date: it
  is not an accept, and no module command runs);
* into pending from another category (`set_back_to_pending`, manage_fraud);
* into refunded (`refund`, refund): refused after the permission check, since a status
  change cannot return money.

A move between two statuses of one category stays a plain status change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core import billing
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, PermissionDenied
from ordermill.core.i18n import EventMsg, event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import status_label, status_param
from ordermill.core.models import Order, OrderEvent, utcnow
from ordermill.core.permissions import permissions_of
from ordermill.core.specs import Actor
from ordermill.core.statuses import StatusRegistry

if TYPE_CHECKING:
    from ordermill.core.orders import Change, OrderService

# category -> (permission, the named action that owns the move) for entering / leaving it
ENTERING: dict[str, tuple[str, str]] = {
    "fraud": ("manage_fraud", "set as fraud"),
    "cancelled": ("edit_orders", "cancel"),
    "refunded": ("refund", "refund"),
    "active": ("edit_orders", "accept"),
    "pending": ("manage_fraud", "set back to pending"),
}
LEAVING: dict[str, tuple[str, str]] = {
    "fraud": ("manage_fraud", "take out of fraud"),
    "cancelled": ("edit_orders", "cancel"),
    "refunded": ("refund", "refund"),
    "active": ("edit_orders", "accept"),
}
STATUS_EVENTS = ("status_changed", "bulk_status_changed")


def needed_permissions(registry: StatusRegistry, source: str, target: str
                       ) -> list[tuple[str, str]]:
    """(permission, action) pairs a status change from `source` to `target` needs beyond
    the route's own; none for a move inside one category."""
    old = registry.category(source) if source in registry else None
    new = registry.category(target)
    if old == new:
        return []
    needed = []
    if old in LEAVING:
        needed.append(LEAVING[old])
    if new in ENTERING and ENTERING[new] not in needed:
        needed.append(ENTERING[new])
    return needed


def may_move(actor: Actor, registry: StatusRegistry, source: str, target: str) -> bool:
    """Whether the actor holds every permission the move needs (a hint for the admin)."""
    if actor.kind == "system":
        return True
    held = permissions_of(actor.role)
    return all(permission in held for permission, _action in
               needed_permissions(registry, source, target))


def check_permission(actor: Actor, registry: StatusRegistry, order: Order, target: str
                     ) -> None:
    """Raise PermissionDenied naming the action a category change stands in for."""
    if actor.kind == "system":
        return
    held = permissions_of(actor.role)
    for permission, action in needed_permissions(registry, order.status, target):
        if permission not in held:
            source = status_label(registry, order.status)
            raise PermissionDenied(
                _("%(name)s (%(role)s) may not move order %(number)s from %(source)s to "
                  "%(target)s: that is the '%(action)s' action, which needs the "
                  "%(permission)s permission.", name=actor.name,
                  role=actor.role or _("no role"), number=order.number, source=source,
                  target=status_label(registry, target), action=action,
                  permission=permission),
                details={"permission": permission, "role": actor.role})


def fraud_cancelled_invoices(session: Session, registry: StatusRegistry, order: Order
                             ) -> list[int]:
    """Invoices cancelled when this order last went into fraud (read from its history).

    Walks back over the events that set a status: the one that entered fraud names the
    invoices it cancelled; moves between fraud statuses are skipped; an order placed straight
    into fraud (fraud score) had every then-open invoice cancelled.
    """
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id,
                                 OrderEvent.status_to.is_not(None))
        .order_by(OrderEvent.id.desc()))
    for event in events:
        data = event.data or {}
        if "cancelled_invoices" in data:
            return [int(i) for i in data["cancelled_invoices"]]
        came_from = event.status_from
        if event.type in STATUS_EVENTS and came_from in registry \
                and registry.category(came_from) == "fraud":
            continue  # a move between two fraud statuses: look further back
        if event.type in STATUS_EVENTS:
            return []  # a status-only move of an older version: it cancelled nothing
        break
    return [invoice.id for invoice in order.invoices if invoice.status == "cancelled"]


def status_change_work(service: OrderService, session: Session, order: Order, status: str,
                       ctx: ActionContext, comment: str | None,
                       change_type: Callable[..., Change]) -> Change:
    """Move the order to `status` with the permission and bookkeeping of its category."""
    registry = service.mill.statuses
    old = order.status
    target_category = registry.category(status)
    check_permission(ctx.actor, registry, order, status)
    if target_category == "refunded":
        raise ActionNotAllowed(_("A status change cannot refund money: use refund instead."))
    old_category = registry.category(old) if old in registry else None
    registry.check_move(old, status, action=_("set to %(status)s",
                                              status=status_label(registry, status)))
    data: dict[str, Any] = {"status": status}
    notes: list[EventMsg] = []
    if old_category == "fraud" and target_category not in ("fraud", "cancelled"):
        reopened = fraud_cancelled_invoices(session, registry, order)
        order.status = status
        billing.reopen_invoices(order, reopened)
        data["reopened_invoices"] = reopened
        if reopened:
            notes.append(event_msg("Invoices cancelled by fraud are open again."))
    order.status = status
    if target_category != old_category:
        if target_category == "fraud":
            cancelled = billing.cancel_open_invoices(order)
            data["cancelled_invoices"] = cancelled
            if cancelled:
                notes.append(event_msg("Open invoices cancelled."))
        elif target_category == "cancelled":
            _cancel_lines(service, order, ctx)
            if ctx.notes.get("stock_released"):
                notes.append(event_msg("Stock released."))
    message = event_msg("Status set to %(status)s.", status=status_param(service.mill, status))
    for note in notes:
        message += " " + note
    return change_type("status_changed", message, comment=comment, data=data,
                       after=service._status_hooks(order, old, None))


def _cancel_lines(service: OrderService, order: Order, ctx: ActionContext) -> None:
    """What `cancel` does to the books, without its module commands."""
    now = utcnow()
    for line in order.lines:
        if line.status == "active":
            line.status = "cancelled"
            line.closed_at = now
            service._release(order, line, ctx)
    billing.cancel_open_invoices(order)
    order.cancelled_at = order.cancelled_at or now


__all__ = ["ENTERING", "LEAVING", "check_permission", "fraud_cancelled_invoices", "may_move",
           "needed_permissions", "status_change_work"]
