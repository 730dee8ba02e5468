"""The stock ledger: every change of a tracked product's stock is a StockMovement row, so
`product.stock == sum(movement.change)` always holds.

The core's one place that changes stock (core/inventory.py) writes holds and releases here;
a new tracked product gets its opening row from the mapper event in catalogue_models,
whoever inserts it (the catalogue actions, the demo, a test fixture); staff adjustments go
through `adjust`, which is one conditional UPDATE like a reservation, so stock never goes negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ordermill.core.catalogue.errors import NegativeStock
from ordermill.core.catalogue_models import StockMovement
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderLine, Product, utcnow

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext


# a placement's holds: one executemany of every product's movement (core.hot_sql)
_MOVEMENTS = HotStatement(insert(StockMovement.__table__), keys=(
    "product_id", "kind", "reason", "change", "units", "order_number", "order_line_id",
    "actor", "note", "created_at"))


def record(session: Session, product_id: int, change: int, kind: str, *,
           reason: str | None = None, units: int | None = None,
           order_number: str | None = None, order_line_id: int | None = None,
           actor: str = "system", note: str | None = None) -> None:
    """Write one movement in the caller's transaction."""
    session.execute(insert(StockMovement).values(
        product_id=product_id, kind=kind, reason=reason, change=change,
        units=abs(change) if units is None else units, order_number=order_number,
        order_line_id=order_line_id, actor=actor, note=note, created_at=utcnow()))


def record_many(session: Session, changes: Sequence[tuple[int, int]], kind: str, *,
                order_number: str | None = None, actor: str = "system") -> None:
    """Write several movements ((product id, change), ...) with one executemany insert."""
    now = utcnow()
    _MOVEMENTS.run_many(session.connection(), [
        {"product_id": product_id, "kind": kind, "reason": None, "change": change,
         "units": abs(change), "order_number": order_number, "order_line_id": None,
         "actor": actor, "note": None, "created_at": now}
        for product_id, change in changes])


def record_release(session: Session, product_id: int, quantity: int,
                   line: OrderLine | None, reason: str | None) -> None:
    """A release by the restock path; the order's number is read from the identity map."""
    number = None
    if line is not None:
        order = session.get(Order, line.order_id)
        number = order.number if order is not None else None
    record(session, product_id, quantity, "release", reason=reason, order_number=number,
           order_line_id=line.id if line is not None else None)


def adjust(session: Session, product: Product, change: int, *, reason: str, actor: str,
           note: str | None = None) -> int:
    """Add `change` (may be negative) to a tracked product's stock; return the new stock."""
    result = session.execute(
        update(Product).where(Product.id == product.id, Product.stock.is_not(None),
                              Product.stock + change >= 0)
        .values(stock=Product.stock + change).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(Product.stock).where(Product.id == product.id))
        raise NegativeStock(
            _("Cannot take %(value)s units of %(sku)s: only %(current)s in stock (units held by "
              "orders are not in stock).", value=-change, sku=product.sku, current=current),
            details={"sku": product.sku, "stock": current, "change": change})
    record(session, product.id, change, "adjustment", reason=reason, actor=actor, note=note)
    session.refresh(product, ["stock"])
    assert product.stock is not None
    return product.stock


def ledger_sum(session: Session, product_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(StockMovement.change), 0))
                              .where(StockMovement.product_id == product_id)) or 0)


def movements(session: Session, product_id: int, limit: int = 200) -> list[StockMovement]:
    return list(session.scalars(select(StockMovement).where(
        StockMovement.product_id == product_id).order_by(StockMovement.id.desc()).limit(limit)))


def movement_to_dict(row: StockMovement) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "reason": row.reason, "change": row.change,
            "units": row.units, "order_number": row.order_number, "actor": row.actor,
            "note": row.note, "created_at": row.created_at.isoformat()}


def write_off_closed_lines(session: Session, lines: Sequence[OrderLine], order_number: str,
                           actor: str, *, closing: bool = False) -> None:
    """Record, once, the units closed lines keep (cancelled or refunded without restock, or
    every line of an order deleted without restock when `closing`): a `write_off` row with
    change 0, so the ledger says where those units went."""
    open_units = {line.id: line.units_held - line.units_released for line in lines
                  if (closing or line.status != "active")
                  and line.units_held - line.units_released > 0}
    if not open_units:
        return
    done = dict(session.execute(
        select(StockMovement.order_line_id, func.sum(StockMovement.units))
        .where(StockMovement.kind == "write_off",
               StockMovement.order_line_id.in_(sorted(open_units)))
        .group_by(StockMovement.order_line_id)).all())
    for line in lines:
        left = open_units.get(line.id, 0) - int(done.get(line.id) or 0)
        if left > 0:
            record(session, line.product_id, 0, "write_off", units=left,
                   order_number=order_number, order_line_id=line.id, actor=actor,
                   reason="not restocked")


def after_order_action(session: Session, order: Order, ctx: ActionContext) -> None:
    """What the catalogue keeps after any order action: write-offs of closed lines, and
    giving back the promo use of an order cancelled before any payment."""
    from ordermill.core.catalogue import promo_uses

    write_off_closed_lines(session, order.lines, order.number, ctx.actor.label)
    promo_uses.release_if_cancelled_unpaid(session, order, ctx)
