"""Checking and confirming a sale (seed 003): the one path the API, admin and CLI share.

`confirm_sale` runs in the core's action runner (`mill.orders.editing`): the order is locked,
`confirm_sales` is required, the confirmation row and one `sale_confirmed` history event are
written in one transaction, and the sales manager may be changed on the way (the attribution
itself stays the core's `Order.sales_manager_id`). Confirming twice is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ordermill.api import (
    ActionNotAllowed,
    Actor,
    EventMsg,
    InvalidInput,
    Order,
    Ordermill,
    OrderNotFound,
    StaffUser,
    event_msg,
    format_date,
    require,
)
from ordermill.plugins.sales_managers.i18n import DOMAIN, _
from ordermill.plugins.sales_managers.models import SalesConfirmation

PERMISSION = "confirm_sales"
EVENT_TYPE = "sale_confirmed"
SYSTEM = "system"
KEEP = object()  # confirm_sale(manager_id=KEEP): leave the attribution as it is



class AlreadyConfirmed(ActionNotAllowed):
    code = "sale_already_confirmed"


@attrs.frozen
class SaleState:
    """An order's sale as the admin and the API show it."""

    number: str
    sales_manager_id: int | None
    sales_manager: str
    confirmed: bool
    confirmed_by: str | None
    confirmed_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["confirmed_at"] = self.confirmed_at.isoformat() if self.confirmed_at else None
        return data


def manager_names(session: Session) -> dict[int, str]:
    """{staff id: name} of every staff member (inactive ones too: old sales name them)."""
    return {user_id: name for user_id, name in
            session.execute(select(StaffUser.id, StaffUser.name)).all()}


def active_managers(mill: Ordermill) -> list[tuple[int, str]]:
    """(id, name) of the active staff a sale may be attributed to, by name."""
    with mill.read_session() as session:
        return [(user_id, name) for user_id, name in session.execute(
            select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True))
            .order_by(StaffUser.name)).all()]


def _name(names: dict[int, str], manager_id: int | None) -> str:
    return names.get(manager_id, f"staff #{manager_id}") if manager_id else SYSTEM


def _name_param(names: dict[int, str], manager_id: int | None) -> str | EventMsg:
    """The manager as a history message parameter: a staff name as it is, "system" and an
    unknown id in the reader's language."""
    if not manager_id:
        return event_msg("system", catalog_domain=DOMAIN)
    if manager_id in names:
        return names[manager_id]
    return event_msg("staff #%(id)s", catalog_domain=DOMAIN, id=manager_id)


def sale_state(mill: Ordermill, number: str, *, actor: Actor) -> SaleState:
    """The order's sales manager and whether the sale is confirmed (view_orders)."""
    require(actor, "view_orders")
    with mill.read_session() as session:
        found = session.execute(select(Order.id, Order.sales_manager_id)
                                .where(Order.number == number)).first()
        if found is None:
            raise OrderNotFound(f"No order {number}.", details={"number": number})
        order_id, manager_id = found
        row = session.get(SalesConfirmation, order_id)
        return SaleState(number, manager_id, _name(manager_names(session), manager_id),
                         row is not None, row.confirmed_by if row else None,
                         row.confirmed_at if row else None)


def confirm_sale(mill: Ordermill, number: str, *, actor: Actor, manager_id: Any = KEEP,
                 comment: str | None = None) -> SaleState:
    """Confirm the order's sale, optionally attributing it to `manager_id` (None: system)."""
    with mill.orders.editing(number, actor=actor, action="confirm_sale",
                             permission=PERMISSION) as (order, ctx):
        session = ctx.session
        assert session is not None  # editing() always opens one
        existing = session.get(SalesConfirmation, order.id)
        if existing is not None:
            raise AlreadyConfirmed(_("The sale of order %(number)s was already confirmed by "
                                     "%(by)s on %(when)s.", number=number,
                                     by=existing.confirmed_by,
                                     when=format_date(existing.confirmed_at)),
                                   details={"number": number})
        names = manager_names(session)
        old = order.sales_manager_id
        new = old if manager_id is KEEP else manager_id
        if new is not None and new != old:
            active = session.scalar(select(exists().where(StaffUser.id == new,
                                                          StaffUser.active.is_(True))))
            if not active:
                raise InvalidInput(_("No active staff member with id %(manager_id)s to "
                                     "attribute the sale to.", manager_id=new),
                                   details={"field": "sales_manager_id"})
        if new == old:
            message = event_msg("Sale confirmed: sales manager %(manager)s.",
                                catalog_domain=DOMAIN, manager=_name_param(names, new))
        else:
            message = event_msg("Sale confirmed: sales manager changed from %(old)s to "
                                "%(new)s.", catalog_domain=DOMAIN,
                                old=_name_param(names, old), new=_name_param(names, new))
            order.sales_manager_id = new
        row = SalesConfirmation(order_id=order.id, confirmed_by_id=actor.user_id,
                                confirmed_by=actor.label)
        session.add(row)
        ctx.record_event(order, EVENT_TYPE, message, comment=comment,
                         data={"sales_manager_id": new, "previous_sales_manager_id": old})
        session.flush()
        state = SaleState(order.number, new, _name(names, new), True, row.confirmed_by,
                          row.confirmed_at)
    return state


def confirmed_condition(order_id: Any) -> Any:
    """SQL: the order with this id has a confirmed sale (for list filters and reports)."""
    return exists().where(SalesConfirmation.order_id == order_id)


__all__ = ["EVENT_TYPE", "KEEP", "PERMISSION", "AlreadyConfirmed", "SaleState",
           "active_managers", "confirm_sale", "confirmed_condition", "manager_names",
           "sale_state"]
