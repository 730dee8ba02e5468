"""`lock_order` reads an order's rows with Core statements and makes the objects itself
(core/orders/loading.py, issue 20): what it gives must be what the ORM's query gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ordermill.core.app import Ordermill
from ordermill.core.orders import loading
from ordermill.core.specs import Actor

COLLECTIONS = ("lines", "invoices", "payments", "fraud_checks", "adjustments", "credit_notes")


def _columns(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def _picture(order: Any) -> dict[str, Any]:
    """Every column of the order and of each row of each collection, in collection order."""
    return {"order": _columns(order),
            **{name: [_columns(row) for row in getattr(order, name)] for name in COLLECTIONS}}


def test_the_core_read_gives_what_the_orm_query_gives(
        mill: Ordermill, make_product: Callable[..., Any], order_factory: Callable[..., Any],
        staff: Actor) -> None:
    make_product("TSHIRT", price=1250, stock=None)
    make_product("MUG", price=800, stock=None)
    number = order_factory([("TSHIRT", 2), ("MUG", 1)], paid=True, accepted=True).number
    mill.orders.refund(number, actor=staff, amount=500)  # a refund, its tax rows, a credit note
    with mill.write_session() as session, session.begin():
        core = loading.lock_order(session, number, for_update=not mill.is_sqlite)
        assert core is not None
        state = inspect(core)
        assert state.persistent and not state.modified and not session.dirty
        assert all(inspect(line).persistent for line in core.lines)
        core_picture = _picture(core)
        assert all(core_picture[name] for name in ("lines", "invoices", "payments",
                                                   "credit_notes"))
        refund_taxes = [[_columns(tax) for tax in payment.refund_taxes]
                        for payment in core.payments]
    with Session(bind=session.bind) as orm_session:  # the ORM's own query, another session
        orm = loading._orm_load(orm_session, number)
        assert orm is not None
        assert _picture(orm) == core_picture
        assert [[_columns(tax) for tax in payment.refund_taxes]
                for payment in orm.payments] == refund_taxes


def test_a_session_that_holds_the_order_gets_the_same_objects(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=None)
    number = order_factory([("TSHIRT", 1)], paid=True).number
    with mill.write_session() as session, session.begin():
        first = loading.lock_order(session, number, for_update=False)
        again = loading.lock_order(session, number, for_update=False)
        assert first is again and first is not None
        assert again.lines[0] is first.lines[0] and again.invoices[0] is first.invoices[0]
        assert loading.lock_order(session, "9999999999", for_update=False) is None


def test_attach_listeners_hear_the_loaded_rows_as_add_tells_them(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Any]) -> None:
    """Unwatched, the rows go straight into the identity map (no cascade walk); a session
    with an attach listener gets them through `Session.add`, so the listener hears each."""
    make_product("TSHIRT", price=1250, stock=None)
    number = order_factory([("TSHIRT", 1)], paid=True).number
    with mill.write_session() as session, session.begin():
        order = loading.lock_order(session, number, for_update=not mill.is_sqlite)
        assert order is not None and order in session and order.lines[0] in session
        order.lines[0].status = "cancelled"  # a change to a fast-attached row is flushed
        assert list(session.dirty) == [order.lines[0]]
        session.rollback()
    heard: list[Any] = []
    with mill.write_session() as session, session.begin():
        event.listen(session, "detached_to_persistent",
                     lambda _session, instance: heard.append(instance))
        order = loading.lock_order(session, number, for_update=not mill.is_sqlite)
        assert order is not None
        assert order in heard and order.lines[0] in heard and order.invoices[0] in heard
