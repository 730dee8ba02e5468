"""Stock: reserve at placement, release on cancel / refund / delete. Atomic on both databases.

Reserving is one conditional UPDATE (`stock >= quantity`): the database decides, so two
checkouts racing for the last unit can never both win, and stock never goes negative.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from ordermill.core.errors import OutOfStock
from ordermill.core.models import Product


def reserve(session: Session, product: Product, quantity: int) -> int:
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
            f"Not enough stock of {product.name} ({product.sku}): {quantity} wanted.",
            details={"sku": product.sku, "requested": quantity},
        )
    return quantity


def reserve_many(session: Session, wanted: Mapping[int, tuple[Product, int]]) -> None:
    """Reserve several products (id -> (product, quantity)), in id order to avoid deadlocks."""
    for product_id in sorted(wanted):
        product, quantity = wanted[product_id]
        reserve(session, product, quantity)


def release(session: Session, product_id: int, quantity: int) -> None:
    """Give units back to a stocked product (unlimited products ignore it)."""
    if quantity <= 0:
        return
    session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock.is_not(None))
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
