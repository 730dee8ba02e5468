"""Stock: reserve at placement, release on cancel / refund / delete. Atomic on both databases.

Every change here is also a row of the stock ledger (core/catalogue/stock_ledger.py), so a
tracked product's stock always equals the sum of its ledger. Reserving is one conditional
UPDATE (`stock >= quantity`): the database decides, so two checkouts racing for the last
unit can never both win, and stock never goes negative.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from ordermill.core.catalogue import stock_ledger
from ordermill.core.errors import OutOfStock
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
    """Reserve several products (id -> (product, quantity)), in id order to avoid deadlocks."""
    for product_id in sorted(wanted):
        product, quantity = wanted[product_id]
        reserve(session, product, quantity, order_number=order_number)


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
