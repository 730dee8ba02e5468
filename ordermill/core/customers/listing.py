"""Reading customers: the searchable list (orders count, money spent, last order), its CSV
rows, and the customer page (details, addresses, orders, payments, notes, history).

The list is a fixed number of queries whatever its size: one count, one page of customers
joined to two aggregate subqueries (orders per customer, money per customer and currency).
"Spent" is money received and kept: succeeded charges minus succeeded refunds, per currency.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ordermill.core.customer_models import CustomerErasure, CustomerEvent, CustomerNote
from ordermill.core.customers.common import customer_to_dict, erasure_of, load, when
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import event_message
from ordermill.core.models import Customer, Order, Payment
from ordermill.core.permissions import require
from ordermill.core.queries import MAX_PER_PAGE, Page, order_summary
from ordermill.core.serialize import money_text, payment_to_dict
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

CUSTOMER_SORTS = ("name", "email", "company", "created_at", "orders_count", "total_spent",
                  "last_order_at")
CSV_COLUMNS = ("id", "name", "email", "company", "phone", "language", "orders_count",
               "total_spent", "last_order_at", "created_at", "erased")
EXPORT_BATCH = 500
LOOKUP_LIMIT = 20


@attrs.frozen
class CustomerRow:
    """One row of the list, with its aggregates."""

    customer: Customer
    orders_count: int
    last_order_at: Any
    spent: dict[str, int]
    erased: bool

    def to_dict(self) -> dict[str, Any]:
        c = self.customer
        return {
            "id": c.id, "name": c.name, "email": c.email, "company": c.company,
            "phone": c.phone, "language": c.language, "created_at": when(c.created_at),
            "orders_count": self.orders_count, "last_order_at": when(self.last_order_at),
            "total_spent": {cur: money_text(amount, cur)
                            for cur, amount in sorted(self.spent.items())},
            "erased": self.erased,
        }

    def csv_row(self) -> dict[str, Any]:
        row = self.to_dict()
        row["total_spent"] = "; ".join(f"{cur} {amount}"
                                       for cur, amount in row["total_spent"].items())
        return row


def _orders_agg() -> Any:
    return (select(Order.customer_id.label("customer_id"),
                   func.count(Order.id).label("orders_count"),
                   func.max(Order.placed_at).label("last_order_at"))
            .group_by(Order.customer_id).subquery("orders_agg"))


def _signed_amount() -> Any:
    return case((Payment.kind == "refund", -Payment.amount), else_=Payment.amount)


def _spent_agg() -> Any:
    """Money kept per customer over every currency (only for sorting)."""
    return (select(Order.customer_id.label("customer_id"),
                   func.sum(_signed_amount()).label("spent"))
            .join(Order, Payment.order_id == Order.id)
            .where(Payment.status == "succeeded")
            .group_by(Order.customer_id).subquery("spent_agg"))


def _query(q: str | None) -> tuple[Select[Any], Any, Any]:
    orders, spent = _orders_agg(), _spent_agg()
    query = (select(Customer, func.coalesce(orders.c.orders_count, 0),
                    orders.c.last_order_at, CustomerErasure.id)
             .outerjoin(orders, orders.c.customer_id == Customer.id)
             .outerjoin(spent, spent.c.customer_id == Customer.id)
             .outerjoin(CustomerErasure, CustomerErasure.customer_id == Customer.id))
    text = (q or "").strip()
    if text:
        like = f"%{text.lower()}%"
        conditions = [func.lower(Customer.name).like(like),
                      func.lower(Customer.email).like(like),
                      func.lower(func.coalesce(Customer.company, "")).like(like)]
        if text.isdigit() and len(text) <= 12:
            conditions.append(Customer.id == int(text))
        query = query.where(or_(*conditions))
    return query, orders, spent


def _ordered(query: Select[Any], orders: Any, spent: Any, sort: str) -> Select[Any]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in CUSTOMER_SORTS:
        raise InvalidInput(_("Unknown sort %(sort)s; sort by %(value)s (prefix - for descending).",
                             sort=repr(sort), value=', '.join(CUSTOMER_SORTS)),
                           details={"field": "sort"})
    column: Any = {
        "name": func.lower(Customer.name), "email": Customer.email,
        "company": func.lower(func.coalesce(Customer.company, "")),
        "created_at": Customer.created_at,
        "orders_count": func.coalesce(orders.c.orders_count, 0),
        "total_spent": func.coalesce(spent.c.spent, 0),
        "last_order_at": orders.c.last_order_at,
    }[name]
    ordered = column.desc() if descending else column.asc()
    if name == "last_order_at":
        ordered = ordered.nulls_last()
    tie = Customer.id.desc() if descending else Customer.id.asc()
    return query.order_by(ordered, tie)


def _spent_of(session: Session, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Order.customer_id, Payment.currency, func.sum(_signed_amount()))
        .join(Order, Payment.order_id == Order.id)
        .where(Payment.status == "succeeded", Order.customer_id.in_(ids))
        .group_by(Order.customer_id, Payment.currency))
    spent: dict[int, dict[str, int]] = {}
    for customer_id, currency, amount in rows:
        spent.setdefault(customer_id, {})[currency] = int(amount or 0)
    return spent


def _rows(session: Session, result: Sequence[Any]) -> list[CustomerRow]:
    spent = _spent_of(session, [row[0].id for row in result])
    return [CustomerRow(customer, int(count), last, spent.get(customer.id, {}),
                        erasure_id is not None)
            for customer, count, last, erasure_id in result]


def search_customers(mill: Ordermill, *, actor: Actor, q: str | None = None,
                     sort: str = "name", page: int = 1, per_page: int = 50) -> Page:
    """One page of customers matching `q` (name, e-mail or company; or an id)."""
    require(actor, "view_orders")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(_("page starts at 1 and per_page is 1 to %(MAX_PER_PAGE)s.",
                             MAX_PER_PAGE=MAX_PER_PAGE),
                           details={"field": "page"})
    query, orders, spent = _query(q)
    with mill.read_session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        result = session.execute(_ordered(query, orders, spent, sort)
                                 .limit(per_page).offset((page - 1) * per_page)).all()
        return Page(items=_rows(session, result), page=page, per_page=per_page, total=total)


def export_customers(mill: Ordermill, *, actor: Actor, q: str | None = None,
                     sort: str = "name") -> Iterator[dict[str, Any]]:
    """CSV rows of every matching customer, read in batches (permission and sort are
    checked now, before the first row is asked for)."""
    require(actor, "export")
    query, orders, spent = _query(q)
    return _batches(mill, _ordered(query, orders, spent, sort))


def _batches(mill: Ordermill, ordered: Select[Any]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        with mill.read_session() as session:
            result = session.execute(ordered.limit(EXPORT_BATCH).offset(offset)).all()
            rows = _rows(session, result)
        yield from (row.csv_row() for row in rows)
        if len(result) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


def lookup_customers(mill: Ordermill, text: str, *, actor: Actor) -> list[dict[str, Any]]:
    """A few customers for a search box (Add New Order): id, name, e-mail, company."""
    if len((text or "").strip()) < 2:
        return []
    page = search_customers(mill, actor=actor, q=text, sort="name", per_page=LOOKUP_LIMIT)
    return [{"id": row.customer.id, "name": row.customer.name, "email": row.customer.email,
             "company": row.customer.company, "phone": row.customer.phone,
             "billing_address": dict(row.customer.billing_address or {}),
             "language": row.customer.language}
            for row in page.items if not row.erased]


def customer_orders(session: Session, customer_id: int) -> list[Order]:
    return list(session.scalars(
        select(Order).where(Order.customer_id == customer_id)
        .options(selectinload(Order.lines), selectinload(Order.payments))
        .order_by(Order.placed_at.desc(), Order.id.desc())))


def customer_detail(mill: Ordermill, customer_id: object, *, actor: Actor) -> dict[str, Any]:
    """The customer page: record, addresses, orders, payments, notes, history, totals."""
    require(actor, "view_orders")
    with mill.read_session() as session:
        customer = load(session, customer_id)
        erasure = erasure_of(session, customer.id)
        orders = customer_orders(session, customer.id)
        data = customer_to_dict(customer, erasure)
        addresses: list[dict[str, Any]] = []
        for address in [customer.billing_address, *(o.billing_address for o in orders)]:
            if address and dict(address) not in addresses:
                addresses.append(dict(address))
        data["addresses"] = addresses
        data["orders"] = [order_summary(order) for order in orders]
        data["orders_count"] = len(orders)
        data["last_order_at"] = when(orders[0].placed_at) if orders else None
        payments = [(order, p) for order in orders for p in order.payments]
        payments.sort(key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)
        data["payments"] = [{**payment_to_dict(p), "order_number": order.number}
                            for order, p in payments]
        spent: dict[str, int] = {}
        for _order, p in payments:
            if p.status == "succeeded":
                sign = -1 if p.kind == "refund" else 1
                spent[p.currency] = spent.get(p.currency, 0) + sign * p.amount
        data["total_spent"] = {cur: money_text(amount, cur)
                               for cur, amount in sorted(spent.items())}
        data["notes"] = [{"id": n.id, "author": n.author, "text": n.text,
                          "created_at": when(n.created_at)}
                         for n in session.scalars(
                             select(CustomerNote).where(CustomerNote.customer_id == customer.id)
                             .order_by(CustomerNote.id.desc()))]
        data["history"] = history_of(session, customer.id)
        data["erasure"] = dict(erasure.report) if erasure is not None else None
        return data


def history_of(session: Session, customer_id: int) -> list[dict[str, Any]]:
    return [{"id": e.id, "type": e.type, "actor": e.actor, "message": event_message(e),
             "data": e.data, "created_at": when(e.created_at)}
            for e in session.scalars(select(CustomerEvent)
                                     .where(CustomerEvent.customer_id == customer_id)
                                     .order_by(CustomerEvent.id.desc()))]


__all__ = ["CSV_COLUMNS", "CUSTOMER_SORTS", "CustomerRow", "customer_detail",
           "export_customers", "lookup_customers", "search_customers"]
