"""The stored payment status: filling it for existing orders, and finding where it is wrong.

`Order.payment_status` holds `statuses.payment_status(order)` so that the order list filters
on it by an index instead of summing every order's payments (2.5 s at 100k orders). The
actions keep it (statuses.store_payment_status); the migration that added the column fills
it with `refresh`, computed by the installed derivation from the rows as they are, and
`mismatches` is the check the tests (and a worried admin) run. The migration leaves
existing orders at "" (revisions import no ordermill code); `ordermill init` runs
`fill_blank` after upgrading, which computes them here.

Rows are read with Core from the reflected tables and turned into detached model objects,
so this works inside a migration whatever columns later revisions add.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, MetaData, Table, bindparam, inspect, select, update

from ordermill.core.models import Invoice, Order, OrderLine, Payment
from ordermill.core.statuses import payment_status

BATCH = 2000
_KIDS: tuple[tuple[str, type[Any], str], ...] = (
    ("order_line", OrderLine, "lines"), ("payment", Payment, "payments"),
    ("invoice", Invoice, "invoices"))


def _model(cls: type[Any], table: Table, row: Any) -> Any:
    known = {column.key for column in cls.__table__.columns}
    return cls(**{key: value for key, value in row._mapping.items()
                  if key in known and key in table.c})


def derived_statuses(connection: Connection) -> Iterator[tuple[int, str, str]]:
    """(order id, stored, derived) for every order, a batch of orders at a time."""
    meta = MetaData()
    orders = Table("shop_order", meta, autoload_with=connection)
    kids = {name: Table(name, meta, autoload_with=connection) for name, _c, _a in _KIDS}
    last = 0
    while True:
        rows = connection.execute(select(orders).where(orders.c.id > last)
                                  .order_by(orders.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        ids = [row.id for row in rows]
        built = {row.id: _model(Order, orders, row) for row in rows}
        stored = {row.id: row.payment_status for row in rows}
        for order in built.values():
            for _name, _cls, attr in _KIDS:
                setattr(order, attr, [])
        for name, cls, attr in _KIDS:
            table = kids[name]
            for row in connection.execute(select(table).where(table.c.order_id.in_(ids))
                                          .order_by(table.c.id)):
                getattr(built[row.order_id], attr).append(_model(cls, table, row))
        for order_id, order in built.items():
            yield order_id, stored[order_id], payment_status(order)


def refresh(connection: Connection) -> int:
    """Write the derived payment status wherever the stored one differs; how many changed."""
    table = Order.__table__
    changed = [{"oid": order_id, "value": derived}
               for order_id, stored, derived in derived_statuses(connection)
               if stored != derived]
    statement = update(table).where(table.c.id == bindparam("oid")).values(
        payment_status=bindparam("value"))
    for start in range(0, len(changed), BATCH):
        connection.execute(statement, changed[start:start + BATCH])
    return len(changed)


def fill_blank(connection: Connection) -> int:
    """After an upgrade: compute the statuses the migration left blank (none: one probe of
    the index)."""
    if "payment_status" not in {c["name"] for c in inspect(connection).get_columns("shop_order")}:
        return 0  # a database stepped down below the revision that adds it
    table = Order.__table__
    if connection.scalar(select(table.c.id).where(table.c.payment_status == "").limit(1)) is None:
        return 0
    return refresh(connection)


def mismatches(connection: Connection) -> list[tuple[int, str, str]]:
    """(order id, stored, derived) of the orders whose stored status is wrong."""
    return [found for found in derived_statuses(connection) if found[1] != found[2]]
