"""Loading the order an action locks, with only the collections that have rows.

The order's row comes with its lines (joined: nearly every order has a few) and, per other
collection (invoices, payments, fraud checks, adjustments, credit notes), an EXISTS flag.
An empty collection is set empty without a query; only those with rows are read, one query
each. An accept right after placement costs two SELECTs instead of seven (issue 20).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ordermill.core.invoice_models import CreditNote
from ordermill.core.models import FraudCheck, Invoice, Order, Payment
from ordermill.core.tax_models import OrderAdjustment

_COLLECTIONS: list[tuple[str, Any, Any]] = [  # (attribute, child class, order of the rows)
    ("invoices", Invoice, (Invoice.id,)),
    ("payments", Payment, (Payment.id,)),
    ("fraud_checks", FraudCheck, (FraudCheck.id,)),
    ("adjustments", OrderAdjustment, (OrderAdjustment.position, OrderAdjustment.id)),
    ("credit_notes", CreditNote, (CreditNote.id,)),
]


@cache
def _load_query() -> Any:
    """The statement, built once: the number is its one parameter (the compiled form is
    cached by SQLAlchemy under the statement's memoized key)."""
    flags = [exists().where(child.order_id == Order.id).label(f"has_{name}")
             for name, child, _order in _COLLECTIONS]
    return select(Order, *flags).options(joinedload(Order.lines)).where(
        Order.number == bindparam("number"))


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
    row = session.execute(_load_query(), {"number": number}).unique().first()
    if row is None:
        return None
    order = row[0]
    loaded = set(inspect(order).dict)
    for (name, _child, _ordering), has_rows in zip(_COLLECTIONS, row[1:], strict=True):
        if name in loaded:
            continue  # already in the identity map, loaded (the same session read it before)
        rows: list[Any] = []
        if has_rows:
            rows = list(session.scalars(_child_query(name), {"order_id": order.id}))
        # the rows' `order` is left unloaded, as the joined lines' is: read in the session, it
        # is the order from the identity map without SQL, and set here it would make each
        # row and the order a reference cycle that only a full garbage collection frees
        set_committed_value(order, name, rows)
    return order


@cache
def _child_query(name: str) -> Any:
    """The rows of one collection of an order, by the order's id (built once)."""
    _name, child, ordering = next(entry for entry in _COLLECTIONS if entry[0] == name)
    query = select(child).where(child.order_id == bindparam("order_id")).order_by(*ordering)
    if child is Payment:
        query = query.options(selectinload(Payment.refund_taxes))  # type: ignore[attr-defined]
    return query
