"""Merging two customers (the same person under two e-mails): one transaction moves the
orders (their payments and invoices follow them), notes and history to the kept customer,
writes an event on each moved order and one on the kept customer, and removes the other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ordermill.core.context import message_columns
from ordermill.core.customer_models import CustomerEvent, CustomerNote
from ordermill.core.customers.common import (
    customer_action,
    load,
    record,
    refuse_if_erased,
    valid_id,
)
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import event_msg, event_ngettext
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderEvent, utcnow
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


def merge_customers(mill: Ordermill, keep_id: object, merge_id: object, *,
                    actor: Actor) -> dict[str, Any]:
    """Move everything of customer `merge_id` to `keep_id` and remove `merge_id`."""
    require(actor, "manage_customers")
    kept_id, gone_id = valid_id(keep_id), valid_id(merge_id)
    if kept_id == gone_id:
        raise InvalidInput(_("A customer cannot be merged into itself; choose two customers."),
                           details={"customer_id": kept_id})
    with customer_action(mill, actor, "customer_merge") as (session, _ctx):
        # lock in id order, so two merges of the same pair cannot deadlock
        first, second = sorted((kept_id, gone_id))
        loaded = {first: load(session, first, lock=True, is_sqlite=mill.is_sqlite),
                  second: load(session, second, lock=True, is_sqlite=mill.is_sqlite)}
        kept, gone = loaded[kept_id], loaded[gone_id]
        refuse_if_erased(session, kept, "merged")
        refuse_if_erased(session, gone, "merged")
        orders = list(session.scalars(select(Order).where(Order.customer_id == gone.id)
                                      .order_by(Order.id)))
        now = utcnow()
        message = event_msg("Moved from customer %(gone)s (%(gone_email)s) to customer "
                            "%(kept)s (%(kept_email)s) by a merge.", gone=gone.id,
                            gone_email=gone.email, kept=kept.id, kept_email=kept.email)
        for order in orders:
            order.customer_id = kept.id
            order.updated_at = now
            session.add(OrderEvent(
                order_id=order.id, order_number=order.number, type="customer_merged",
                actor=actor.label, **message_columns(message),
                data={"from_customer_id": gone.id, "to_customer_id": kept.id},
                created_at=now))
        notes = session.execute(update(CustomerNote).where(CustomerNote.customer_id == gone.id)
                                .values(customer_id=kept.id)).rowcount
        session.execute(update(CustomerEvent).where(CustomerEvent.customer_id == gone.id)
                        .values(customer_id=kept.id))
        numbers = [order.number for order in orders]
        summary = {"merged_customer_id": gone.id, "merged_email": gone.email,
                   "merged_name": gone.name, "orders_moved": numbers, "notes_moved": notes}
        session.flush()
        session.delete(gone)
        record(session, kept.id, actor, "customer_merged",
               event_msg("Customer %(id)s (%(email)s) merged into this one: %(orders)s and "
                         "%(notes)s moved.", id=gone.id, email=gone.email,
                         orders=event_ngettext("%(num)s order", "%(num)s orders",
                                               len(numbers)),
                         notes=event_ngettext("%(num)s note", "%(num)s notes", notes)),
               summary)
    return {"kept_customer_id": kept_id, **summary}


__all__ = ["merge_customers"]
