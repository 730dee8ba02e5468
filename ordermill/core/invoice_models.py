"""The tables of issued documents: credit notes and the gapless number counters.

Invoices themselves live in core/models.py (with their `state`, `number` and `snapshot`);
these are the rows issue 15 added beside them. Like invoices and payments, credit notes are
the shop's books: deleting their order keeps them, with `order_id` NULL and the order's
number in `order_number`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ordermill.core.models import Base, utcnow

if TYPE_CHECKING:
    from ordermill.core.models import Order


class DocumentCounter(Base):
    """The last number given in one series and year ("INV", 2026): one row, bumped in the
    issuing transaction with a single UPDATE ... RETURNING, so numbers have no gap and no
    duplicate under concurrency (never MAX()+1)."""

    __tablename__ = "document_counter"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


class CreditNote(Base):
    """Money given back on an issued invoice (a refund, or what deleting an order cancels).

    Numbered in its own series (CN-2026-000045) when its transaction ends, and frozen: the
    seller, the buyer and the lines are copied into `snapshot`. `tax` and `tax_breakdown`
    ({rate: tax in minor units}) come from core.invoicing.refund_tax_breakdown.
    """

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_order.id", ondelete="SET NULL"), index=True)
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="credit_notes", lazy="raise")

    document_kind = "credit_note"


__all__ = ["CreditNote", "DocumentCounter"]
