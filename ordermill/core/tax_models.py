"""Tables of pricing adjustments: what the price_adjustments hook added to an order, and the
tax each refund returned (per rate), for credit notes and the books.

Kept apart from core/models.py (which imports this module at its end, so the tables are in
Base.metadata wherever the models are).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from ordermill.core.models import Base, Order, Payment, utcnow

RATE = Numeric(9, 4)


class OrderAdjustment(Base):
    """One discount, tax, fee or shipping amount of an order (see `price_adjustments`).

    `amount` is positive minor units; `kind` says which way it moves the total. `included`
    tax is contained in the line price (prices entered gross): recorded, not added.
    `source` is the plugin that made it ("core" for the promo code).
    """

    __tablename__ = "order_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    line_id: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[Decimal | None] = mapped_column(RATE)
    code: Mapped[str | None] = mapped_column(String(64))
    included: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RefundTax(Base):
    """The tax a refund payment returned, one row per rate (the credit note's tax summary).

    `net` + `tax` is what this refund returned at that rate; `part` says whether it was the
    goods' ("goods") or the fees' ("fees") share. Kept with the payment when the order is
    deleted (order_id becomes NULL).
    """

    __tablename__ = "refund_tax"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_order.id", ondelete="SET NULL"), index=True)
    part: Mapped[str] = mapped_column(String(10))
    rate: Mapped[Decimal | None] = mapped_column(RATE)
    net: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# Loaded on demand: the action and detail loaders (core.orders.runner) select them in one
# query per batch; order lists never touch them.
Order.adjustments = relationship(  # type: ignore[attr-defined]
    OrderAdjustment, lazy="select", order_by=(OrderAdjustment.position, OrderAdjustment.id),
    cascade="all, delete-orphan")

# A refund's tax rows (the API's payments[].tax, credit notes), loaded like adjustments.
Payment.refund_taxes = relationship(  # type: ignore[attr-defined]
    RefundTax, lazy="select", order_by=RefundTax.id, passive_deletes=True)

def pricing_loads() -> tuple[Any, ...]:
    """Loader options for an order's adjustments and its refunds' tax (add to a query of
    Order that already selectinloads Order.payments)."""
    return (selectinload(Order.adjustments),  # type: ignore[attr-defined]
            selectinload(Order.payments).selectinload(
                Payment.refund_taxes))  # type: ignore[attr-defined]


def loaded(instance: Any, name: str) -> bool:
    """Whether `instance.name` can be read without SQL that cannot run (a detached row whose
    relationship was never loaded reads as empty instead)."""
    state = sa_inspect(instance)
    return not (state.detached and name in state.unloaded)


__all__ = ["OrderAdjustment", "RefundTax", "loaded", "pricing_loads"]
