"""Notification pieces that are not tied to one channel: bulk resend and signed order links.

`resend_confirmations` is the Webex "resend order confirmation" action, for one order or up to
100: it writes a `confirmation_resent` event per eligible order and lets plugins queue their
messages for it (`jobs_for_event`), all in one transaction, so either every chosen order gets
its message queued or none does. Which channel sends it (e-mail, SMS, ...) is up to plugins.

`customer_order_link` / `verify_order_link` sign an order number with the shop's secret key
so a customer can follow a link from an e-mail to their order-status page (Kartris: the
customer checks progress in their account) without an account or a guessable URL. They live
in core.order_links (expiry, revocation) and are re-exported here for existing callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, InvalidInput, NotFound
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderEvent, utcnow
from ordermill.core.order_links import (
    LINK_SALT,
    InvalidOrderLink,
    customer_order_link,
    order_link_token,
    verify_order_link,
)
from ordermill.core.outbox import enqueue
from ordermill.core.permissions import require
from ordermill.core.specs import Actor, JobRequest
from ordermill.core.statuses import payment_status

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

MAX_BULK_RESEND = 100
RESEND_EVENT = "confirmation_resent"
SENDABLE_PAYMENT_STATUSES = frozenset({"paid", "partially_refunded"})


@attrs.frozen
class ResendResult:
    """What a resend did: the orders whose confirmation was queued and why others were not."""

    queued: tuple[str, ...]
    skipped: Mapping[str, str]
    jobs: int

    def to_dict(self) -> dict[str, object]:
        return {"queued": list(self.queued), "skipped": dict(self.skipped), "jobs": self.jobs}


def _skip_reason(mill: Ordermill, order: Order) -> str | None:
    """Why this order gets no confirmation, or None when it does (Webex: completed only)."""
    category = mill.statuses.category(order.status)
    label = mill.statuses.get(order.status).label
    if category == "fraud":
        return f"held as fraud ({label}): confirmations are sent only for completed orders"
    if category in ("cancelled", "refunded") or not any(
        line.status == "active" for line in order.lines
    ):
        return f"order is {label}: confirmations are sent only for completed orders"
    paid = payment_status(order)
    if category != "completed" and paid not in SENDABLE_PAYMENT_STATUSES:
        return (f"not paid yet ({paid.replace('_', ' ')}): confirmations are sent only for "
                f"completed orders")
    return None


def resend_confirmations(
    mill: Ordermill, numbers: Sequence[str], actor: Actor, *, comment: str | None = None
) -> ResendResult:
    """Queue the order confirmation again for up to 100 orders; report the ones skipped.

    Only completed (fully paid, or free) orders are sent; the rest are reported with a reason
    and left untouched. More than 100 orders is refused before anything is written. Raises
    ActionNotAllowed (and writes nothing) when no plugin queued a message for an order that
    should have had one: a resend that silently sends nothing would mislead the admin.
    """
    require(actor, "edit_orders")
    wanted = list(dict.fromkeys(str(number).strip() for number in numbers if str(number).strip()))
    if not wanted:
        raise InvalidInput(_("Choose at least one order to resend the confirmation for."))
    if len(wanted) > MAX_BULK_RESEND:
        raise InvalidInput(
            _("Confirmations can be resent for at most %(MAX_BULK_RESEND)s orders at a time; "
              "%(value)s were chosen. Nothing was sent: choose fewer orders.",
              MAX_BULK_RESEND=MAX_BULK_RESEND, value=len(wanted)),
            details={"chosen": len(wanted), "limit": MAX_BULK_RESEND},
        )
    queued: list[str] = []
    skipped: dict[str, str] = {}
    job_count = 0
    with mill.write_session() as session, session.begin():
        orders = {
            order.number: order
            for order in session.scalars(
                select(Order).options(selectinload(Order.lines), selectinload(Order.payments),
                     selectinload(Order.invoices))
                .where(Order.number.in_(wanted))
            )
        }
        for number in wanted:
            order = orders.get(number)
            if order is None:
                skipped[number] = "no such order"
                continue
            reason = _skip_reason(mill, order)
            if reason is not None:
                skipped[number] = reason
                continue
            ctx = ActionContext(mill, actor, "resend_confirmation", session=session)
            event = ctx.record_event(  # a resend changes nothing on the order itself
                order, RESEND_EVENT, event_msg("Order confirmation resent."), comment=comment,
                notify_customer=True, data={"bulk": len(wanted) > 1}, touch=False)
            jobs: list[JobRequest] = []
            for requested in mill.plugins.call(
                "jobs_for_event", order=order, event=event, ctx=ctx
            ).values:
                jobs.extend(requested)
            jobs.extend(ctx.jobs)
            if not jobs:
                raise ActionNotAllowed(
                    _("No notification plugin queued a confirmation (is notify_email configured "
                      "with an SMTP host?). Nothing was resent."),
                    details={"number": order.number},
                )
            for job in jobs:
                enqueue(session, job, order_number=order.number,
                        default_max_attempts=mill.settings.outbox_max_attempts)
            event.data = {**event.data, "jobs": [job.kind for job in jobs]}
            job_count += len(jobs)
            queued.append(number)
    return ResendResult(tuple(queued), skipped, job_count)


def customer_can_be_notified(mill: Ordermill, order: Order, actor: Actor) -> bool:
    """Whether a comment with "notify the customer" would queue a message to the buyer: the
    plugins' `jobs_for_event` are asked about a comment event that is never stored (nothing
    is written), and answer with a job marked `to_customer` when e-mail (or another channel)
    is set up. The comment dialog says so when it is not."""
    probe = OrderEvent(id=0, order_id=order.id, order_number=order.number, type="comment",
                       actor=actor.label, message="", comment="", notify_customer=True,
                       visible_to_customer=False, data={}, created_at=utcnow())
    ctx = ActionContext(mill, actor, "add_comment", dry_run=True)
    for jobs in mill.plugins.call("jobs_for_event", order=order, event=probe,
                                  ctx=ctx).values:
        if any(job.to_customer for job in jobs or ()):
            return True
    return False


def resend_confirmation(mill: Ordermill, number: str, actor: Actor) -> ResendResult:
    """Resend one order's confirmation; an order that may not get one is a clear error."""
    result = resend_confirmations(mill, [number], actor)
    if result.skipped:
        reason = next(iter(result.skipped.values()))
        if reason == "no such order":
            raise NotFound(_("No order %(number)s.", number=number), details={"number": number})
        raise ActionNotAllowed(_("Order %(number)s: %(reason)s.", number=number, reason=reason),
                               details={"number": number})
    return result


__all__ = [
    "LINK_SALT",
    "MAX_BULK_RESEND",
    "RESEND_EVENT",
    "InvalidOrderLink",
    "ResendResult",
    "customer_can_be_notified",
    "customer_order_link",
    "order_link_token",
    "resend_confirmation",
    "resend_confirmations",
    "verify_order_link",
]
