"""Reading orders: no lock, no transaction of its own beyond the read (retried once when the
connection was lost).

An order is read as an action loads it (core.orders.loading): its row with its lines and a
flag per other collection, then only the collections that have rows, by statements built
once. `detail` reads the order and its history in one read session: what GET
/orders/{number} and every action's answer show.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ordermill.core.errors import OrderNotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderEvent
from ordermill.core.orders.loading import lock_order
from ordermill.core.orders.runner import ActionRunner, _valid_number
from ordermill.core.permissions import require
from ordermill.core.retry import retry_read
from ordermill.core.serialize import order_to_dict
from ordermill.core.specs import Actor


@cache
def _history_query() -> Any:
    """An order's events, oldest first, by its number (built once)."""
    return select(OrderEvent).where(OrderEvent.order_number == bindparam("number")) \
        .order_by(OrderEvent.id)


def _read_order(session: Session, number: str) -> Order:
    order = lock_order(session, number, for_update=False)
    if order is None:
        raise OrderNotFound(_("No order %(number)s.", number=number),
                            details={"number": str(number)})
    return order


class OrderReading(ActionRunner):
    """`get`, `history`, `detail`, `describe` and `available_actions`."""

    def available_actions(self, order: Order, actor: Actor) -> list[str]:
        """The actions this actor may take on this order now (see core.available): what the
        admin's buttons and the API's `available_actions` show, by the rules the actions
        themselves refuse by."""
        from ordermill.core.available import available_actions

        return available_actions(self.mill, order, actor)

    @retry_read
    def get(self, number: str, *, actor: Actor | None = None) -> Order:
        """The order with its lines, invoices, payments, fraud checks, credit notes and
        adjustments loaded (and each payment's refund tax)."""
        if actor is not None:
            require(actor, "view_orders")
        number = _valid_number(number)
        with self.mill.read_session() as session:
            return _read_order(session, number)

    @retry_read
    def history(self, number: str) -> list[OrderEvent]:
        with self.mill.read_session() as session:
            return list(session.scalars(_history_query(), {"number": _valid_number(number)}))

    @retry_read
    def detail(self, number: str, *, actor: Actor | None = None
               ) -> tuple[Order, list[OrderEvent]]:
        """`get` and `history` in one read session: the order as stored and its events."""
        if actor is not None:
            require(actor, "view_orders")
        number = _valid_number(number)
        with self.mill.read_session() as session:
            order = _read_order(session, number)
            return order, list(session.scalars(_history_query(), {"number": number}))

    def describe(self, number: str) -> dict[str, Any]:
        """The order as a dict with its history (API detail view, `ordermill order show`)."""
        order, events = self.detail(number)
        return order_to_dict(order, events=events)
