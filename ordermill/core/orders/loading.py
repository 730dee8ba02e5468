"""Loading the order an action locks, with only the collections that have rows.

The order's row comes with its lines (joined: nearly every order has a few) and, per other
collection (invoices, payments, fraud checks, adjustments, credit notes), an EXISTS flag.
An empty collection is set empty without a query; only those with rows are read, one query
each. An accept right after placement costs two SELECTs instead of seven (issue 20).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ordermill.core.invoice_models import CreditNote
from ordermill.core.models import FraudCheck, Invoice, Order, Payment
from ordermill.core.tax_models import OrderAdjustment


def _collections() -> list[tuple[str, Any, Any]]:
    """(attribute, child class, order of the rows) of the collections an action loads."""
    return [
        ("invoices", Invoice, (Invoice.id,)),
        ("payments", Payment, (Payment.id,)),
        ("fraud_checks", FraudCheck, (FraudCheck.id,)),
        ("adjustments", OrderAdjustment, (OrderAdjustment.position, OrderAdjustment.id)),
        ("credit_notes", CreditNote, (CreditNote.id,)),
    ]


def lock_order(session: Session, where: Any, *, for_update: bool) -> Order | None:
    """The order matching `where` with its rows loaded (see the module), locked with
    FOR UPDATE OF the order's row when `for_update` (PostgreSQL)."""
    collections = _collections()
    flags = [exists().where(child.order_id == Order.id).label(f"has_{name}")
             for name, child, _order in collections]
    query = select(Order, *flags).options(joinedload(Order.lines)).where(where)
    if for_update:
        query = query.with_for_update(of=Order)
    row = session.execute(query).unique().first()
    if row is None:
        return None
    order = row[0]
    for (name, child, ordering), has_rows in zip(collections, row[1:], strict=True):
        if name in _loaded(order):
            continue  # already in the identity map, loaded (the same session read it before)
        rows: list[Any] = []
        if has_rows:
            query = select(child).where(child.order_id == order.id).order_by(*ordering)
            if child is Payment:
                query = query.options(selectinload(Payment.refund_taxes))  # type: ignore[attr-defined]
            rows = list(session.scalars(query))
        set_committed_value(order, name, rows)
        for item in rows:
            if "order" in _unloaded(item):
                set_committed_value(item, "order", order)
    return order


def _loaded(instance: Any) -> set[str]:
    return set(inspect(instance).dict)


def _unloaded(instance: Any) -> set[str]:
    return set(inspect(instance).unloaded)
