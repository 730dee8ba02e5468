"""A customer's personal data for an access request (GDPR article 15): one JSON document with
everything ordermill holds about them: the record, notes, history, every order with its
history (e-mails sent included), payments and the idempotency records of their checkouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.core.customer_models import CustomerNote
from ordermill.core.customers.common import customer_action, customer_to_dict, erasure_of, load
from ordermill.core.customers.listing import history_of
from ordermill.core.models import Order, OrderEvent, utcnow
from ordermill.core.orders.runner import _order_loader as order_loader
from ordermill.core.permissions import require
from ordermill.core.serialize import event_to_dict, order_to_dict
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

EXPORT_FORMAT = "ordermill.customer-export/1"


def export_customer(mill: Ordermill, customer_id: object, *, actor: Actor) -> dict[str, Any]:
    """The export document; the export itself is written to the customer's history."""
    require(actor, "manage_customers")
    with customer_action(mill, actor, "customer_export") as (session, _ctx):
        customer = load(session, customer_id, lock=True, is_sqlite=mill.is_sqlite)
        erasure = erasure_of(session, customer.id)
        orders = list(session.scalars(  # loaded as an order page loads it: everything
            order_loader().where(Order.customer_id == customer.id)
            .order_by(Order.placed_at, Order.id)))
        numbers = [order.number for order in orders]
        events: dict[str, list[OrderEvent]] = {number: [] for number in numbers}
        if numbers:
            for event in session.scalars(select(OrderEvent)
                                         .where(OrderEvent.order_number.in_(numbers))
                                         .order_by(OrderEvent.id)):
                events[event.order_number].append(event)
        emails = [{"order_number": number, **event_to_dict(event)}
                  for number in numbers for event in events[number]
                  if event.type == "email_sent"]
        notes = [{"author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
                 for n in session.scalars(select(CustomerNote)
                                          .where(CustomerNote.customer_id == customer.id)
                                          .order_by(CustomerNote.id))]
        record(session, customer.id, actor, numbers)
        document = {
            "format": EXPORT_FORMAT, "exported_at": utcnow().isoformat(),
            "shop": mill.settings.shop_name,
            "customer": customer_to_dict(customer, erasure),
            "notes": notes,
            "history": history_of(session, customer.id),
            "orders": [order_to_dict(order, events=events[order.number]) for order in orders],
            "emails_sent": emails,
        }
    return document


def record(session: Any, customer_id: int, actor: Actor, numbers: list[str]) -> None:
    from ordermill.core.customers.common import record as write
    from ordermill.core.i18n import event_ngettext

    write(session, customer_id, actor, "exported",
          event_ngettext("Personal data exported (%(num)s order) for an access request.",
                         "Personal data exported (%(num)s orders) for an access request.",
                         len(numbers)),
          {"orders": numbers})


__all__ = ["EXPORT_FORMAT", "export_customer"]
