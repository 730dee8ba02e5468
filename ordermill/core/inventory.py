"""Stock: reserve at placement, release on cancel / refund / delete. Atomic on both databases.

Every change here is also a row of the stock ledger (core/catalogue/stock_ledger.py), so a
tracked product's stock always equals the sum of its ledger. Reserving is one conditional
UPDATE (`stock >= quantity`): the database decides, so two checkouts racing for the last
unit can never both win, and stock never goes negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlalchemy import Integer, bindparam, case, select, update
from sqlalchemy.orm import Session

from ordermill.core.catalogue import stock_ledger
from ordermill.core.errors import OutOfStock
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import gettext as _
from ordermill.core.models import OrderLine, Product


def reserve(session: Session, product: Product, quantity: int, *,
            order_number: str | None = None) -> int:
    """Take `quantity` units of a stocked product; return the units held (0 if unlimited)."""
    if product.stock is None:
        return 0
    result = session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise OutOfStock(
            _("Not enough stock of %(name)s (%(sku)s): %(quantity)s wanted.", name=product.name,
              sku=product.sku, quantity=quantity),
            details={"sku": product.sku, "requested": quantity},
        )
    stock_ledger.record(session, product.id, -quantity, "hold", order_number=order_number)
    return quantity


def reserve_many(session: Session, wanted: Mapping[int, tuple[Product, int]], *,
                 order_number: str | None = None) -> None:
    """Reserve several products (id -> (product, quantity)) with one conditional UPDATE and
    one ledger insert: a placement's stock costs two statements whatever its line count.

    Every row must pass `stock >= quantity` or the whole reservation fails (the caller's
    transaction rolls back). On PostgreSQL the rows are locked in id order first (in the
    same statement), so two placements never deadlock over the same products.
    """
    tracked = {pid: pair for pid, pair in wanted.items() if pair[0].stock is not None}
    if not tracked:
        return
    if len(tracked) == 1:
        (product, quantity), = tracked.values()
        reserve(session, product, quantity, order_number=order_number)
        return
    ids = sorted(tracked)
    params: dict[str, int] = {}
    for index, pid in enumerate(ids):
        params[f"id_{index}"] = pid
        params[f"units_{index}"] = tracked[pid][1]
    statement = _reserve_statement(session.get_bind().dialect.name, len(ids))
    # Core, on the session's connection: no ORM bookkeeping
    done = {row[0] for row in statement.rows(session.connection(), params)}
    if len(done) != len(ids):  # the rows that passed are rolled back with the transaction
        short = next(pid for pid in ids if pid not in done)
        product, quantity = tracked[short]
        raise OutOfStock(
            f"Not enough stock of {product.name} ({product.sku}): {quantity} wanted.",
            details={"sku": product.sku, "requested": quantity},
        )
    stock_ledger.record_many(session, [(pid, -tracked[pid][1]) for pid in ids], "hold",
                             order_number=order_number)


@cache
def _reserve_statement(dialect: str, count: int) -> HotStatement:
    """reserve_many's UPDATE for `count` products, built once per dialect and count (ids
    and units are parameters `id_<i>` / `units_<i>`): building it cost more than running it."""
    table = Product.__table__
    ids = [bindparam(f"id_{index}", type_=Integer) for index in range(count)]
    taken = case(*[(pid, bindparam(f"units_{index}", type_=Integer))
                   for index, pid in enumerate(ids)], value=table.c.id)
    statement = update(table).values(stock=table.c.stock - taken)
    if dialect == "postgresql":
        locked = (select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id)
                  .with_for_update().cte("locked"))
        statement = statement.where(table.c.id == locked.c.id, table.c.stock >= taken)
    else:  # SQLite: the write lock is the database's, there is no row order to keep
        statement = statement.where(table.c.id.in_(ids), table.c.stock >= taken)
    return HotStatement(statement.returning(table.c.id))


def release(session: Session, product_id: int, quantity: int, *,
            line: OrderLine | None = None, reason: str | None = None) -> None:
    """Give units back to a stocked product (unlimited products ignore it). `line` and
    `reason` (cancel, refund, delete) label the ledger row."""
    if quantity <= 0:
        return
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock.is_not(None))
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        stock_ledger.record_release(session, product_id, quantity, line, reason)
