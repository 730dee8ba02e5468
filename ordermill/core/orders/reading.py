"""Reading orders: no lock, no transaction of its own beyond the read (retried once when the
connection was lost)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ordermill.core.errors import OrderNotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderEvent
from ordermill.core.orders.runner import ActionRunner, _order_loader, _valid_number
from ordermill.core.permissions import require
from ordermill.core.retry import retry_read
from ordermill.core.serialize import order_to_dict
from ordermill.core.specs import Actor


class OrderReading(ActionRunner):
    """`get`, `history`, `describe` and `available_actions`."""

    def available_actions(self, order: Order, actor: Actor) -> list[str]:
        """The actions this actor may take on this order now (see core.available): what the
        admin's buttons and the API's `available_actions` show, by the rules the actions
        themselves refuse by."""
        from ordermill.core.available import available_actions

        return available_actions(self.mill, order, actor)

    @retry_read
    def get(self, number: str, *, actor: Actor | None = None, with_history: bool = False
            ) -> Order:
        """The order with its lines, invoices, payments and fraud checks loaded."""
        if actor is not None:
            require(actor, "view_orders")
        with self.mill.read_session() as session:
            order = session.scalar(_order_loader().where(Order.number == _valid_number(number)))
            if order is None:
                raise OrderNotFound(_("No order %(number)s.", number=number),
                                    details={"number": str(number)})
            return order

    @retry_read
    def history(self, number: str) -> list[OrderEvent]:
        with self.mill.read_session() as session:
            return list(session.scalars(
                select(OrderEvent).where(OrderEvent.order_number == _valid_number(number))
                .order_by(OrderEvent.id)
            ))

    def describe(self, number: str) -> dict[str, Any]:
        """The order as a dict with its history (API detail view, `ordermill order show`)."""
        order = self.get(number)
        return order_to_dict(order, events=self.history(number))
