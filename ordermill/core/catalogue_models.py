"""The catalogue's own tables: prices per currency, the stock ledger, promo terms and uses,
and the catalogue history (order events need an order; product changes have none).

Imported at the end of core/models.py so every user of `Base.metadata` sees these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    insert,
)
from sqlalchemy.orm import Mapped, mapped_column

from ordermill.core.models import Base, Product, utcnow

MOVEMENT_KINDS = ("opening", "adjustment", "hold", "release", "write_off")
ADJUSTMENT_REASONS = ("received", "counted", "damaged")


class ProductPrice(Base):
    """A product's price in one currency; the product's own currency has a row too."""

    __tablename__ = "product_price"
    __table_args__ = (UniqueConstraint("product_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"),
                                            index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)


class StockMovement(Base):
    """One change of a tracked product's stock. A tracked product's `stock` always equals the
    sum of its movements' `change`.

    kind: opening (the stock a product started with), adjustment (reason received, counted
    or damaged), hold (placement took units), release (cancel, refund or delete gave them
    back), write_off (units an order kept when closed without restock: `change` 0, `units`
    says how many will never come back).
    """

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_product_id_id", "product_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    change: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=0)
    order_number: Mapped[str | None] = mapped_column(String(10), index=True)
    order_line_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(200), default="system")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PromoTerms(Base):
    """The rules of a promo code beyond its kind and value, and its race-free use counter.

    `times_used` only grows by a conditional UPDATE (`times_used < usage_limit`), so the last
    use of a limited code goes to exactly one order however many race for it.
    """

    __tablename__ = "promo_terms"

    promo_code_id: Mapped[int] = mapped_column(
        ForeignKey("promo_code.id", ondelete="CASCADE"), primary_key=True)
    valid_from: Mapped[dt.datetime | None]
    valid_until: Mapped[dt.datetime | None]
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    times_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # {currency: minor units}: a fixed discount's amount per currency, the minimum subtotal
    amounts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    min_subtotal: Mapped[dict[str, Any]] = mapped_column(default=dict)
    products: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False)
    combinable: Mapped[bool] = mapped_column(Boolean, default=True)


class PromoUse(Base):
    """One order's use of a promo code; `released_at` is set when the use was given back."""

    __tablename__ = "promo_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    promo_code_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id", ondelete="CASCADE"),
                                               index=True)
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    customer_email: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None]


class CatalogueEvent(Base):
    """The catalogue's history: who changed which product or promo code, when, and how."""

    __tablename__ = "catalogue_event"
    __table_args__ = (Index("ix_catalogue_event_subject_key", "subject", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(20))  # product | promo_code
    key: Mapped[str] = mapped_column(String(64))  # the sku or the code
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    # the message id + parameters to show `message` in the reader's language (issue 21)
    message_id: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(Product, "after_insert")
def _opening_balance(_mapper: Any, connection: Any, product: Product) -> None:
    """A tracked product starts its stock ledger with its initial stock, whoever inserts it
    (the catalogue actions, the demo, a test fixture), so stock == sum(ledger) from the start."""
    if product.stock is not None:
        connection.execute(insert(StockMovement).values(
            product_id=product.id, kind="opening", reason=None, change=product.stock,
            units=product.stock, actor="system", created_at=utcnow()))


__all__ = ["ADJUSTMENT_REASONS", "MOVEMENT_KINDS", "CatalogueEvent", "ProductPrice",
           "PromoTerms", "PromoUse", "StockMovement"]
