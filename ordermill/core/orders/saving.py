"""Writing an order's rows with Core statements instead of unit-of-work flushes.

The ORM inserts rows whose ids it must read back one at a time on SQLite (the database does
not promise the order of RETURNING rows, so SQLAlchemy will not batch them); PostgreSQL gets
one batched INSERT from the ORM already. For a placement the lines are taken out of the unit
of work before the flush and written with one multi-row INSERT ... RETURNING id: SQLite gives
a statement's new rows increasing ids in the order of its VALUES (the writer holds the
database lock), so the sorted ids are the lines' ids in order; on PostgreSQL SQLAlchemy
matches them to the rows (`sort_by_parameter_order`). The lines are then attached to the
session as persistent rows, exactly as a flush would have left them.

A new order's adjustments are taken out of the unit of work too and written after the lines
(`insert_adjustments`, one INSERT on either database), naming the lines' real ids: an UPDATE
of each one's provisional line id is saved.

`insert_one` does the same for single rows that nothing else in the flush depends on (the
new customer, the order's invoice, the action's event): a flush costs several times the
INSERT it sends (issue 20). `insert_order` uses it for the new order itself once its rows are
taken out; plugins that keep rows about new orders hear of it from the `order_saved`
hook, which no flush listener could.

`write_order_changes` writes an action's changes to a loaded order the same way when the
order's row is all that changed (one UPDATE ... WHERE id AND version), and plugins hear of
it from `order_updated`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, inspect, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ordermill.core.hot_sql import HotStatement
from ordermill.core.models import Invoice, Order, OrderLine
from ordermill.core.persistent import attach
from ordermill.core.tax_models import OrderAdjustment

_TABLE = OrderLine.__table__
_ORDERS = Order.__table__
_INSERT = insert(_TABLE).returning(_TABLE.c.id)  # built once


def batch_lines(session: Session, order: Order) -> list[OrderLine] | None:
    """Before the flush: take the order's new lines out of the unit of work (the caller
    writes them with `insert_lines` after the order's insert), one line too: the order is
    then inserted without a flush (`insert_order`). None without lines, or when they are rows
    already."""
    lines = list(order.lines)
    if not lines or any(line in session and line.id is not None for line in lines):
        return None
    return _take_out(session, order, "lines", lines)


def insert_lines(session: Session, order: Order, lines: Sequence[OrderLine]) -> None:
    """After the flush: one INSERT of every line, then the lines are persistent rows of the
    order (in `order.lines`, in the same order) as if the ORM had inserted them."""
    for line in lines:
        line.order_id = order.id
    _insert_rows(session, lines, _TABLE)
    for line in lines:
        set_committed_value(line, "order", order)
    set_committed_value(order, "lines", list(lines))


def take_adjustments(session: Session, order: Order) -> list[Any] | None:
    """Before the flush: take a new order's adjustments out of the unit of work. They name
    the lines by provisional ids (-1, -2, ...) until the lines are inserted; written by
    `insert_adjustments` after that with the real ids, they cost one INSERT and no UPDATE
    of their line ids. None when there are none (or they are rows already)."""
    rows = list(order.adjustments)  # type: ignore[attr-defined]
    if not rows or any(row.id is not None for row in rows):
        return None
    return _take_out(session, order, "adjustments", rows)


def _take_out(session: Session, order: Order, key: str, rows: list[Any]) -> list[Any]:
    """The order's new rows of collection `key`, out of the unit of work and off the order
    (as loaded, so the flush sees no change), for the caller to INSERT itself."""
    for row in rows:
        if row in session:
            session.expunge(row)
    set_committed_value(order, key, [])
    return rows


def insert_adjustments(session: Session, order: Order, rows: Sequence[Any]) -> None:
    """After the lines' insert: the adjustments taken by `take_adjustments` (their line ids
    settled by the caller) in one INSERT, attached to the order as a flush leaves them."""
    for row in rows:
        row.order_id = order.id
    _insert_rows(session, rows, OrderAdjustment.__table__)
    set_committed_value(order, "adjustments", list(rows))


def _insert_rows(session: Session, objects: Sequence[Any], table: Any) -> None:
    """One INSERT ... RETURNING id of new objects of one table, then each is a persistent
    row with its id, as if the ORM had inserted it. Core on the session's connection: the
    rows are new, nothing to autoflush first."""
    rows = [_values(obj, table) for obj in objects]
    connection = session.connection()
    keys = tuple(rows[0]) if rows else ()
    if connection.dialect.name == "sqlite" and len(rows) * len(keys) <= _SQLITE_VARIABLES:
        # one INSERT ... VALUES (...), (...) on the driver's cursor (core.hot_sql); the ids
        # in the order of VALUES (see the module)
        flat = {f"{key}_{index}": value for index, row in enumerate(rows)
                for key, value in row.items()}
        ids = sorted(new_id for new_id, in _rows_insert(table, len(rows), keys)
                     .rows(connection, flat))
    elif connection.dialect.name == "sqlite":
        ids = sorted(connection.scalars(_returning(table, False), rows))
    else:  # PostgreSQL numbers them in order too, and SQLAlchemy sorts them to match
        ids = list(connection.scalars(_returning(table, True), rows))
    if len(ids) != len(objects):  # pragma: no cover - the database refused a row: it raised
        raise RuntimeError(f"{table.name} rows were not all inserted")
    for obj, row, new_id in zip(objects, rows, ids, strict=True):
        state = obj.__dict__
        for key, value in row.items():
            if key not in state or state[key] is not value:  # defaults the insert filled
                setattr(obj, key, value)
        obj.id = new_id
        make_transient_to_detached(obj)
        session.add(obj)


_SQLITE_VARIABLES = 999  # the fewest bound values an SQLite build takes in one statement


@lru_cache(maxsize=128)
def _rows_insert(table: Any, count: int, keys: tuple[str, ...]) -> HotStatement:
    """INSERT of `count` rows of `keys` (parameters `<key>_<i>`) RETURNING their ids."""
    return HotStatement(insert(table).values([
        {key: bindparam(f"{key}_{index}", type_=table.c[key].type) for key in keys}
        for index in range(count)]).returning(table.c.id))


@cache
def _returning(table: Any, in_order: bool) -> Any:
    if table is _TABLE and not in_order:
        return _INSERT
    return insert(table).returning(table.c.id, sort_by_parameter_order=in_order)


def take_invoice(session: Session, order: Order) -> Invoice | None:
    """Before the flush: take a new order's one invoice out of the unit of work (written by
    `insert_invoice` after the order's insert): the order's flush is then one row, without
    the relationship bookkeeping of a second table. None when there is not exactly one."""
    invoices = list(order.invoices)
    if len(invoices) != 1 or invoices[0].id is not None:
        return None
    invoice = invoices[0]
    if invoice in session:
        session.expunge(invoice)
    set_committed_value(order, "invoices", [])
    return invoice


def insert_invoice(session: Session, order: Order, invoice: Invoice) -> None:
    """After the flush: the invoice taken by `take_invoice`, inserted and attached to the
    order as the flush would have left it."""
    invoice.order_id = order.id
    insert_one(session, invoice)
    set_committed_value(invoice, "order", order)
    set_committed_value(order, "invoices", [invoice])


def insert_order(session: Session, order: Order) -> None:
    """Before the flush: a new order whose rows are all taken out of the unit of work (or
    none yet) is inserted by `insert_one`: a flush of it alone cost 18 % of a placement. With
    rows still riding on its flush (fraud checks, several invoices) the flush inserts it, as
    before. Plugins that keep rows about new orders learn of it from the
    `order_saved` hook either way, not from the flush."""
    if order not in session.new or any(order.__dict__.get(key) for key in _collections()):
        return
    session.expunge(order)
    insert_one(session, order)


@cache
def _collections() -> tuple[str, ...]:
    """The order's relationships (lines, invoices, payments, ...): read once from the mapper."""
    return tuple(relationship.key for relationship in Order.__mapper__.relationships)


def insert_one(session: Session, obj: Any) -> None:
    """Insert one new object with a Core INSERT ... RETURNING id on the session's connection
    and attach it as a persistent row, as a flush would have left it; for a row nothing else
    in the unit of work depends on (a placement's new customer and invoice, an action's
    event): a whole flush of one row cost several times its statement.

    The values are the ORM's: an attribute left unset, or None where the column has a
    default, takes the column's default (a database default is read back by RETURNING)."""
    table = type(obj).__table__
    state = obj.__dict__
    row, from_database, unset = _row_of(table, state)
    returned = _insert_returning(session, table, row, from_database)
    for key, value in (*row.items(), *zip(from_database, returned[1:], strict=True),
                       *((key, None) for key in unset)):
        if key not in state or state[key] is not value:  # defaults the insert filled
            setattr(obj, key, value)
    obj.id = returned[0]
    attach(session, obj)


def insert_new(session: Session, cls: Any, values: dict[str, Any]) -> Any:
    """`insert_one` for a row not built yet: the INSERT from `values` (attribute -> value,
    defaults as `insert_one` takes them), then the object made straight as the persistent
    row, its attributes filled as a query fills them, without the instrumented sets of a
    constructor (an action's event: a third of its cost). No `init` event fires."""
    table = cls.__table__
    row, from_database, unset = _row_of(table, values)
    returned = _insert_returning(session, table, row, from_database)
    obj = cls.__mapper__.class_manager.new_instance()
    state = obj.__dict__
    state.update(row)
    state.update(zip(from_database, returned[1:], strict=True))
    state.update(dict.fromkeys(unset))
    state["id"] = returned[0]
    attach(session, obj)
    return obj


def _row_of(table: Any, state: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the INSERT's values, columns whose database default RETURNING reads back, columns
    left out as SQL NULL) for the attribute values in `state`."""
    row: dict[str, Any] = {}
    from_database: list[str] = []
    unset: list[str] = []
    for column in table.c:
        key = column.key
        if column.primary_key:
            continue
        value = state.get(key)
        if value is not None or (key in state and column.type.should_evaluate_none):
            row[key] = value
        elif column.default is not None:
            default = column.default
            row[key] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        elif column.server_default is not None:
            from_database.append(key)
        elif not column.type.should_evaluate_none:
            row[key] = None
        else:
            unset.append(key)  # left out, so SQL NULL (None would be JSON's 'null')
    return row, from_database, unset


def _insert_returning(session: Session, table: Any, row: dict[str, Any],
                      from_database: list[str]) -> tuple[Any, ...]:
    """INSERT one row (on the driver's cursor: core.hot_sql); its id, then the columns
    `from_database` names, as RETURNING gives them."""
    statement = _insert_of(table, tuple(from_database), tuple(row))
    [returned] = statement.rows(session.connection(), row)
    return returned


@cache
def _insert_of(table: Any, read_back: tuple[str, ...], keys: tuple[str, ...]
               ) -> HotStatement:
    return HotStatement(insert(table).returning(
        table.c.id, *(table.c[key] for key in read_back)), keys=keys)


def _values(line: Any, table: Any = _TABLE) -> dict[str, Any]:
    """Every column's value as the ORM would insert it: the attribute set, else the
    column's default."""
    values: dict[str, Any] = {}
    state = line.__dict__
    for column in table.c:
        if column.key == "id":
            continue
        if column.key in state and state[column.key] is not None:
            values[column.key] = state[column.key]
        elif column.default is not None and column.key not in state:
            default = column.default
            values[column.key] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        else:
            values[column.key] = state.get(column.key)
    return values



def write_order_changes(session: Session, order: Order) -> frozenset[str]:
    """Write the changes of a loaded order; the names of the columns that changed.

    When the order is the unit of work's only change (a status move, a comment, a buyer
    edit) it is written by one Core UPDATE ... WHERE id AND version, as the flush would
    write it (its version raised, `onupdate` columns filled, a version someone else raised
    refused with StaleDataError) and left committed as the flush leaves it: a flush of one
    row cost a quarter of an accept (issue 20). Anything else (new rows, changed lines or
    payments) is flushed as before. Flush listeners do not see the Core path: plugins hear
    of the change from the `order_updated` hook, which the action runner calls with what
    this returns."""
    state = inspect(order)
    changed = frozenset(state.committed_state)
    columns = changed & _order_columns()
    if (columns != changed or not columns or state.key is None or session.new
            or session.deleted or len(session.dirty) != 1 or order not in session.dirty):
        session.flush()
        return columns
    values = state.dict
    version = state.committed_state.get("version", values["version"])
    row = {key: values[key] for key in columns}
    for key, default in _onupdates().items():
        if key not in row:
            row[key] = default.arg(None) if default.is_callable else default.arg
    row["version"] = version + 1
    keys = tuple(sorted(row))
    matched = _update_of(keys).rowcount(
        session.connection(), {**{f"new_{key}": row[key] for key in keys},
                               "row_id": values["id"], "row_version": version})
    if matched != 1:
        raise StaleDataError(f"UPDATE of order {values['id']} at version {version} "
                             f"matched {matched} rows")
    values.update(row)
    state._commit_all(values, session.identity_map)  # as a flush ends: nothing left to write
    return columns


def changed_columns(order: Order) -> frozenset[str]:
    """The order's columns changed since it was loaded or last written."""
    return frozenset(inspect(order).committed_state) & _order_columns()


@cache
def _order_columns() -> frozenset[str]:
    return frozenset(column.key for column in _ORDERS.c)


@cache
def _onupdates() -> dict[str, Any]:
    """The order's columns an UPDATE fills when not set (updated_at)."""
    return {column.key: column.onupdate for column in _ORDERS.c
            if column.onupdate is not None}


@cache
def _update_of(keys: tuple[str, ...]) -> HotStatement:
    """UPDATE orders SET <keys> WHERE id = :row_id AND version = :row_version (built once
    per set of columns)."""
    return HotStatement(update(_ORDERS).where(
        _ORDERS.c.id == bindparam("row_id"), _ORDERS.c.version == bindparam("row_version"),
    ).values({key: bindparam(f"new_{key}") for key in keys}))
