"""The reports' own summary tables, kept in step with the orders in the same transaction.

Live, the reports walk every order line (a window function per order for the fee split) and
join every payment to its order (for its tax): seconds at 100,000 orders. So the plugin keeps
their figures precomputed, one row per thing that is counted, and each report is one
GROUP BY over one narrow, indexed table (`summary`):

* `report_line`: one row per sold line of a paid order (what the live `queries.sold_lines`
  gives): paid date, currency, gateway, product, category and the line's units, gross,
  discounts, tax, refunds and share of the fees;
* `report_money`: one row per succeeded payment (its date, gateway, currency and its gross,
  tax, refund and fee without tax, as the live payments report computes them) and one row
  per order (placement date, payment method, `orders` = 1), both carrying the order's
  currency and sales manager: the payments report reads the payment rows, the managers
  report both.

The rows are computed by the live report SQL itself, narrowed to the orders that changed, so
the two cannot drift apart in meaning. Staff names and sale confirmations are not copied:
the reports join them when they run (a renamed manager or a new confirmation shows at once).

Keeping them in step: a listener on every SQLAlchemy session notes, at each flush and before
each UPDATE or DELETE statement run through a session, the orders whose rows change in what
the summaries read (ORDER_FIELDS of an order, LINE_FIELDS of a line of a paid order, any
payment; history events and sale confirmations are not copied, so they count for nothing)
and payments, and just before COMMIT
recomputes their summary rows in the same transaction: an action and its summary commit or
roll back together, whichever code path (core action, plugin, API, admin) made the change.
Data written around the ORM (bulk SQL, a restored backup, a database used while this plugin
was not installed) is brought back in step by `ordermill report rebuild` (`rebuild`); the
migration that creates the tables fills them the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from ordermill.api import Base, Order, OrderLine, Payment
from ordermill.plugins.reports import tax
from ordermill.plugins.reports.definitions import Filters
from ordermill.plugins.reports.queries import SUCCEEDED, sold_lines

CHUNK = 500  # ids per IN (...) list
NOTED = "reports_changed"  # session.info key: (order ids, payment ids) flushed, not summed
NEW_ORDERS = "reports_new_orders"  # session.info key: ids of orders placed, not yet summed


LINE_COVER = ("paid_at", "gateway", "units", "gross", "discounts", "tax", "refunds", "fees")
MONEY_COVER = ("at", "orders", "payments", "gross", "tax", "refunds", "fees")


class ReportLine(Base):
    """One sold line of a paid order, as the products and categories reports count it."""

    __tablename__ = "report_line"
    __table_args__ = (
        Index("ix_report_line_order_id", "order_id"),
        Index("ix_report_line_paid_at", "paid_at"),
        # covering, in GROUP BY order: SQLite sums all time straight off the index (no sort)
        Index("ix_report_line_products", "sku", "product", "currency", *LINE_COVER),
        Index("ix_report_line_categories", "category", "currency", *LINE_COVER),
    )

    line_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[dt.datetime]
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    units: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    discounts: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)


class ReportMoney(Base):
    """A succeeded payment (`payment_id` set) or an order (`payment_id` NULL, `orders` 1):
    `at` is the payment's date or the order's placement, `gateway` the payment's gateway or
    the order's payment method, `currency` the payment's (the order's for an order row)."""

    __tablename__ = "report_money"
    __table_args__ = (
        Index("ix_report_money_order_id", "order_id"),
        Index("ix_report_money_payment_id", "payment_id"),
        Index("ix_report_money_at", "at"),
        # covering, in GROUP BY order (see ReportLine)
        Index("ix_report_money_payments", "currency", "gateway", "payment_id", *MONEY_COVER),
        Index("ix_report_money_managers", "manager_id", "order_currency", "order_id",
              "gateway", *MONEY_COVER),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime | None]
    gateway: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    order_currency: Mapped[str | None] = mapped_column(String(3))
    manager_id: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    payments: Mapped[int] = mapped_column(Integer)
    gross: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)


LINES = ReportLine.__table__
MONEY = ReportMoney.__table__
LINE_COLUMNS = ("line_id", "order_id", "paid_at", "currency", "gateway", "sku", "product",
                "category", "units", "gross", "discounts", "tax", "refunds", "fees")
MONEY_COLUMNS = ("order_id", "payment_id", "at", "gateway", "currency", "order_currency",
                 "manager_id", "orders", "payments", "gross", "tax", "refunds", "fees")


def _zero() -> Any:
    return literal(0, BigInteger)


def line_rows(order_ids: Any = None) -> Any:
    """SELECT: the report_line rows of these orders (all orders for None)."""
    sold = sold_lines(Filters(), order_ids)
    return select(*(sold.c[name] for name in LINE_COLUMNS))


def order_rows(order_ids: Any = None) -> Any:
    """SELECT: the report_money rows of these orders themselves (one each)."""
    query = select(Order.id, null(), Order.placed_at, Order.payment_method, Order.currency,
                   Order.currency, Order.sales_manager_id, literal(1, Integer),
                   literal(0, Integer), _zero(), _zero(), _zero(), _zero())
    return query if order_ids is None else query.where(Order.id.in_(order_ids))


def payment_rows(payment_ids: Any = None, order_ids: Any = None) -> Any:
    """SELECT: the report_money rows of these payments, or of these orders' payments
    (succeeded ones; all for None), with the amounts and tax the live payments report
    computes."""
    charge = Payment.kind == "charge"
    refund = Payment.kind == "refund"
    tax_part = tax.payment_tax(Payment.amount, Order)
    when = _when
    query = (select(Payment.order_id, Payment.id, Payment.created_at, Payment.gateway,
                    Payment.currency, Order.currency, Order.sales_manager_id,
                    literal(0, Integer), when(charge, literal(1, Integer)),
                    when(charge, Payment.amount - tax_part),
                    when(charge, tax_part) - when(refund, tax_part),
                    when(refund, Payment.amount - tax_part),
                    _coalesce_zero(Payment.fee))
             .select_from(Payment).outerjoin(Order, Order.id == Payment.order_id)
             .where(Payment.status == SUCCEEDED))
    if order_ids is not None:
        return query.where(Payment.order_id.in_(order_ids))
    return query if payment_ids is None else query.where(Payment.id.in_(payment_ids))


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=_zero())


def _coalesce_zero(value: Any) -> Any:
    return func.coalesce(value, _zero())


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


@functools.cache
def _statements() -> dict[str, Any]:
    """The refresh's statements, built once (building them costs more than running them);
    `:ids` is the chunk of ids each runs for."""
    ids = bindparam("ids", expanding=True)
    theirs = select(Payment.id).where(Payment.order_id.in_(ids))
    return {
        "left": select(MONEY.c.payment_id).where(  # payments that left these orders
            MONEY.c.order_id.in_(ids), MONEY.c.payment_id.is_not(None),
            MONEY.c.payment_id.not_in(theirs)),
        "drop_lines": delete(LINES).where(LINES.c.order_id.in_(ids)),
        "drop_money": delete(MONEY).where(MONEY.c.order_id.in_(ids)),
        "lines": insert(LINES).from_select(LINE_COLUMNS, line_rows(ids)),
        "orders": insert(MONEY).from_select(MONEY_COLUMNS, order_rows(ids)),
        # a placement's one new order: an expanding IN is rendered again at every execution
        "order": insert(MONEY).from_select(MONEY_COLUMNS, order_rows(None).where(
            Order.id == bindparam("id"))),
        "their_payments": insert(MONEY).from_select(MONEY_COLUMNS, payment_rows(order_ids=ids)),
        "drop_payments": delete(MONEY).where(MONEY.c.payment_id.in_(ids)),
        "payments": insert(MONEY).from_select(MONEY_COLUMNS, payment_rows(payment_ids=ids)),
    }


def refresh(db: Any, order_ids: Iterable[int], payment_ids: Iterable[int] = ()) -> None:
    """Recompute the summary rows of these orders (with their payments) and of these
    payments without an order (`db`: a Session or a Connection inside the caller's
    transaction). A deleted order loses its rows; a payment that leaves its order (order_id
    NULL when the order is deleted) keeps its row, as the live report keeps counting it."""
    statements = _statements()
    payments = set(payment_ids)
    for chunk in _chunks(order_ids):
        ids = {"ids": chunk}
        payments.update(db.scalars(statements["left"], ids))
        for name in ("drop_lines", "drop_money", "lines", "orders", "their_payments"):
            db.execute(statements[name], ids)
    for chunk in _chunks(payments):
        for name in ("drop_payments", "payments"):
            db.execute(statements[name], {"ids": chunk})


def rebuild(db: Any) -> dict[str, int]:
    """Empty the summary tables and fill them from every order and payment (`ordermill
    report rebuild`, the migration); returns the row counts."""
    db.execute(delete(LINES))
    db.execute(delete(MONEY))
    db.execute(insert(LINES).from_select(LINE_COLUMNS, line_rows()))
    db.execute(insert(MONEY).from_select(MONEY_COLUMNS, order_rows()))
    db.execute(insert(MONEY).from_select(MONEY_COLUMNS, payment_rows()))
    return {"report_line": db.scalar(select(func.count()).select_from(LINES)),
            "report_money": db.scalar(select(func.count()).select_from(MONEY))}


# ---- keeping them in step: the session listener ---------------------------------------------

_HAS_TABLES: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


#: what the summary rows read of an order and of a line: a change elsewhere (status, version,
#: history, invoices...) leaves them as they are, and costs no statement
ORDER_FIELDS = ("currency", "paid_at", "payment_method", "placed_at", "sales_manager_id",
                "tax_total", "total")
ORDER_FIELDS_SET = frozenset(ORDER_FIELDS)
LINE_FIELDS = ("status", "quantity", "total", "tax", "discount", "refunded_amount", "name",
               "sku", "category", "order_id")


def _noted(session: Session) -> tuple[set[int], set[int]]:
    return session.info.setdefault(NOTED, (set(), set()))


def _new_orders(session: Session) -> set[int]:
    return session.info.setdefault(NEW_ORDERS, set())


def note_new_order(session: Session, order_id: int) -> None:
    """A new order, inserted in `session`'s transaction: its row is written before the commit
    (the `order_saved` hook calls this; a flush that inserts one notes it itself)."""
    _new_orders(session).add(order_id)


def note_changed_order(session: Session, order_id: int) -> None:
    """An order whose summary rows must be recomputed before the commit (the
    `order_updated` hook calls this; a flush that changes one notes it itself)."""
    _noted(session)[0].add(order_id)


def _changed(state: Any, fields: tuple[str, ...]) -> bool:
    """Whether the flush changes one of `fields`, read without `state.attrs`: its attribute
    states point back at the object's state, a reference cycle that only the cyclic garbage
    collector frees (an action's rows then outlive it, and full collections cost ~0.1 ms
    per action)."""
    obj, attrs = state.obj(), state.mapper.attrs
    return any(get_history(obj, name, PASSIVE_NO_INITIALIZE).has_changes() for name in fields
               if name in attrs)


def _unpaid(session: Session, order_id: int) -> bool:
    """An order this session holds whose `paid_at` is loaded and empty: its lines are in no
    report (only paid orders' lines are), so changing them changes no summary row."""
    order = session.identity_map.get(inspect(Order).identity_key_from_primary_key((order_id,)))
    return order is not None and "paid_at" in inspect(order).dict and order.paid_at is None


def _note_flush(session: Session, _context: Any) -> None:
    """after_flush: the orders and payments this flush wrote (new, changed or deleted) in a
    way the summary rows read. A new order only needs its own row (`NEW_ORDERS`): it has no
    old rows and, until a payment arrives (which notes it in full), no sold lines."""
    orders, payments = _noted(session)
    fresh = _new_orders(session)
    for obj in session.new:
        state = inspect(obj)
        if isinstance(obj, Order):
            fresh.add(state.dict.get("id") or state.identity[0])
    for obj in (*session.new, *session.dirty, *session.deleted):
        state = inspect(obj)
        loaded = state.dict  # what is loaded only: never a query inside the flush
        deleted = obj in session.deleted
        if isinstance(obj, Order):
            if deleted or (obj not in session.new and _changed(state, ORDER_FIELDS)):
                orders.add(loaded.get("id") or state.identity[0])
        elif isinstance(obj, Payment):
            history = get_history(obj, "order_id", PASSIVE_NO_INITIALIZE)  # moved: both orders
            orders.update(i for i in (*history.sum(), loaded.get("order_id"))
                          if isinstance(i, int))
            if not isinstance(loaded.get("order_id"), int):  # refreshed with its order else
                payments.add(loaded.get("id") or state.identity[0])
        elif isinstance(obj, OrderLine) and isinstance(loaded.get("order_id"), int):
            order_id = loaded["order_id"]
            if order_id in fresh or _unpaid(session, order_id):
                continue
            if deleted or obj in session.new or _changed(state, LINE_FIELDS):
                orders.add(order_id)


def _note_bulk(state: ORMExecuteState) -> None:
    """do_orm_execute: an UPDATE or DELETE by statement (`session.execute(update(Order)...)`)
    loads nothing, so the rows it is about to touch are read first, with its WHERE."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    entity = state.bind_mapper.class_
    where = state.statement.whereclause
    if entity is Payment:
        columns: tuple[Any, ...] = (Payment.order_id, Payment.id)
    elif entity is Order:
        columns = (Order.id,)
    elif entity is OrderLine:
        columns = (OrderLine.order_id,)
    else:
        return
    query = select(*columns) if where is None else select(*columns).where(where)
    orders, payments = _noted(state.session)
    for row in state.session.execute(query):
        if isinstance(row[0], int):
            orders.add(row[0])
        else:  # a payment without an order (its id is row[1])
            payments.update(row[1:])


def _has_tables(session: Session) -> bool:
    """Whether this database has the summary tables (the plugin's migration ran): checked
    once per engine while true, again while false (a database migrated later)."""
    bind = session.get_bind()
    if _HAS_TABLES.get(bind):
        return True
    present = inspect(session.connection()).has_table(MONEY.name)
    _HAS_TABLES[bind] = present
    return present


def _refresh_before_commit(session: Session) -> None:
    """before_commit: recompute what this transaction changed, inside it."""
    noted = session.info.get(NOTED)
    if not ((noted and any(noted)) or session.info.get(NEW_ORDERS) or session.new
            or session.dirty or session.deleted):
        return
    session.flush()
    orders, payments = session.info.pop(NOTED, (set(), set()))
    fresh = session.info.pop(NEW_ORDERS, set()) - orders
    if (orders or payments or fresh) and _has_tables(session):
        refresh(session, orders, payments)
        _insert_new_orders(session, fresh)


def _insert_new_orders(session: Session, fresh: set[int]) -> None:
    """The summary rows of orders placed in this transaction: one INSERT each chunk, nothing
    to drop (Core on the session's connection: the ORM's execute would add nothing)."""
    if not fresh:
        return
    connection = session.connection()
    if len(fresh) == 1:  # a placement: a plain id, not an IN list rendered at each execution
        connection.execute(_statements()["order"], {"id": next(iter(fresh))})
    else:
        for chunk in _chunks(fresh):
            connection.execute(_statements()["orders"], {"ids": chunk})


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(NOTED, None)
    session.info.pop(NEW_ORDERS, None)


def install() -> None:
    """Listen on every session (idempotent): all write paths go through one."""
    if not event.contains(Session, "after_flush", _note_flush):
        event.listen(Session, "after_flush", _note_flush)
        event.listen(Session, "do_orm_execute", _note_bulk)
        event.listen(Session, "before_commit", _refresh_before_commit)
        event.listen(Session, "after_rollback", _forget)


__all__ = ["LINES", "MONEY", "ReportLine", "ReportMoney", "install", "line_rows", "order_rows",
           "payment_rows", "rebuild", "refresh"]
