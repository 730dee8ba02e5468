"""Loading the order an action locks, with only the collections that have rows.

The order's row comes with its lines (joined: nearly every order has a few) and, per other
collection (invoices, payments, fraud checks, adjustments, credit notes), an EXISTS flag.
An empty collection is set empty without a query; only those with rows are read, one query
each. An accept right after placement costs two SELECTs instead of seven (issue 20).

The rows are read with Core statements and made into persistent objects here, as a query
would leave them (`persistent`): the ORM's loading machinery (its per-query context and
row processors) was a third of an accept. A session that already holds the order (a bulk
action, a second read in one transaction) gets it the ORM's way, which keeps the objects it
holds; payments come the ORM's way too (with their refund tax rows).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ordermill.core.hot_sql import HotStatement
from ordermill.core.invoice_models import CreditNote
from ordermill.core.models import FraudCheck, Invoice, Order, OrderLine, Payment
from ordermill.core.persistent import held, persistent
from ordermill.core.tax_models import OrderAdjustment

_COLLECTIONS: list[tuple[str, Any, Any]] = [  # (attribute, child class, order of the rows)
    ("invoices", Invoice, (Invoice.id,)),
    ("payments", Payment, (Payment.id,)),
    ("fraud_checks", FraudCheck, (FraudCheck.id,)),
    ("adjustments", OrderAdjustment, (OrderAdjustment.position, OrderAdjustment.id)),
    ("credit_notes", CreditNote, (CreditNote.id,)),
]
_ORM_LOADED = frozenset({"payments"})  # read with the ORM: their refund taxes come along
_ORDERS = Order.__table__
_LINES = OrderLine.__table__


def _flags() -> list[Any]:
    return [exists().where(child.order_id == Order.id).label(f"has_{name}")
            for name, child, _order in _COLLECTIONS]


@cache
def _load_query() -> Any:
    """The ORM's statement, built once: the number is its one parameter (the compiled form
    is cached by SQLAlchemy under the statement's memoized key)."""
    return select(Order, *_flags()).options(joinedload(Order.lines)).where(
        Order.number == bindparam("number"))


@cache
def _row_query() -> HotStatement:
    """The same read as Core rows (on the driver's cursor, core.hot_sql): the order's
    columns, the flags, then each line's columns (none for an order without lines), lines in
    id order as `Order.lines` keeps them."""
    return HotStatement(
        select(*_ORDERS.c, *_flags(), *_LINES.c)
        .select_from(_ORDERS.outerjoin(_LINES, _LINES.c.order_id == _ORDERS.c.id))
        .where(_ORDERS.c.number == bindparam("number")).order_by(_LINES.c.id))


@cache
def _lock_query() -> Any:
    return select(Order.id).where(Order.number == bindparam("number")).with_for_update(
        of=Order)


def lock_order(session: Session, number: str, *, for_update: bool) -> Order | None:
    """The order with this number and its rows loaded (see the module), locked with
    FOR UPDATE OF the order's row first when `for_update` (PostgreSQL).

    On PostgreSQL the lock is its own statement: a statement that waited for the lock still
    reads the other tables as they were when it started, so the rows (lines, the EXISTS
    flags) are read by the next statement, which sees what the lock holder committed."""
    if for_update and session.execute(_lock_query(), {"number": number}).first() is None:
        return None
    connection = session.connection()
    statement = _row_query()
    rows = statement.raw_rows(connection, {"number": number})
    if not rows:
        return None
    orders, flags = len(_ORDERS.c), len(_COLLECTIONS)
    if held(session, Order, rows[0][:1]) is not None:  # loaded before in this session
        return _orm_load(session, number)
    # the order's columns repeat on every line's row: made into values once
    first = statement.columns(connection.dialect, rows[0], 0, orders + flags)
    order = persistent(session, Order, first[:orders])
    lines = [persistent(session, OrderLine,
                        statement.columns(connection.dialect, row, orders + flags))
             for row in rows if row[orders + flags] is not None]
    set_committed_value(order, "lines", lines)
    _load_collections(session, order, first[orders:orders + flags], set())
    return order


def _orm_load(session: Session, number: str) -> Order | None:
    """`lock_order` the ORM's way, for a session that already holds orders."""
    row = session.execute(_load_query(), {"number": number}).unique().first()
    if row is None:
        return None
    order = row[0]
    _load_collections(session, order, row[1:], set(inspect(order).dict))
    return order


def _load_collections(session: Session, order: Order, has_rows: Any, loaded: set[str]
                      ) -> None:
    for (name, child, _ordering), any_rows in zip(_COLLECTIONS, has_rows, strict=True):
        if name in loaded:
            continue  # already in the identity map, loaded (the same session read it before)
        rows: list[Any] = []
        if any_rows and name in _ORM_LOADED:
            rows = list(session.scalars(_child_query(name), {"order_id": order.id}))
        elif any_rows:
            rows = [persistent(session, child, row) for row in _child_rows(name)
                    .rows(session.connection(), {"order_id": order.id})]
        # the rows' `order` is left unloaded, as the lines' is: read in the session, it is
        # the order from the identity map without SQL, and set here it would make each row
        # and the order a reference cycle that only a full garbage collection frees
        set_committed_value(order, name, rows)


@cache
def _child_query(name: str) -> Any:
    """The rows of one collection of an order, by the order's id (built once)."""
    _name, child, ordering = next(entry for entry in _COLLECTIONS if entry[0] == name)
    query = select(child).where(child.order_id == bindparam("order_id")).order_by(*ordering)
    if child is Payment:
        query = query.options(selectinload(Payment.refund_taxes))  # type: ignore[attr-defined]
    return query


@cache
def _child_rows(name: str) -> HotStatement:
    """`_child_query` as Core rows (every column, in the table's order), on the driver's
    cursor (core.hot_sql)."""
    _name, child, ordering = next(entry for entry in _COLLECTIONS if entry[0] == name)
    table = child.__table__
    return HotStatement(select(*table.c).where(table.c.order_id == bindparam("order_id"))
                        .order_by(*ordering))
