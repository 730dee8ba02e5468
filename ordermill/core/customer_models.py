"""Tables of the customer pages (issue 19): staff notes, the history of changes, erasures.

Kept apart from core/models.py (which describes orders and money); imported at the end of it,
so `Base.metadata` always holds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ordermill.core.models import Base, utcnow


class CustomerNote(Base):
    """A note staff keep about a customer (never shown to the customer)."""

    __tablename__ = "customer_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomerEvent(Base):
    """The customer's history: one row per action (edit, note, merge, export, erasure)."""

    __tablename__ = "customer_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    # the message id + parameters to show `message` in the reader's language (issue 21)
    message_id: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomerErasure(Base):
    """A customer whose personal data was erased: the pseudonym now standing in for them and
    the report of what was erased and what is retained (issued invoices)."""

    __tablename__ = "customer_erasure"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    erased_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = ["CustomerErasure", "CustomerEvent", "CustomerNote"]
