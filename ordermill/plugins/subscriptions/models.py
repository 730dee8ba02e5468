"""The subscriptions plugin's table: one subscription per recurring order.

It uses the core's `Base` (so tests' create_all makes it) and is created in production by
the plugin's own Alembic branch (migrations/, branch label "subscriptions"). Periods are the
order's invoices: the first is the order's own, each later one a renewal invoice on the same
order (or, for an invoice plan, the plan's next part); `current_invoice_id` is the one being
billed now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ordermill.api import Base, utcnow

ACTIVE = "active"
PROCESSING = "processing"
SUSPENDED = "suspended"
COMPLETED = "completed"
FAILED = "failed"
STATUSES = (ACTIVE, PROCESSING, SUSPENDED, COMPLETED, FAILED)
STATUS_LABELS = {ACTIVE: "Active", PROCESSING: "Processing", SUSPENDED: "Suspended",
                 COMPLETED: "Completed", FAILED: "Failed"}
INTERVAL_UNITS = ("day", "week", "month", "year")


class Subscription(Base):
    """A recurring order: its plan, saved payment method, progress and own status.

    `status` is the subscription's, apart from the order's workflow status (see STATUSES).
    `total_count` is the number of payments of the plan (None: open-ended); `payments_made`
    counts the periods paid, the first payment included. `attempts` counts the failed debits
    of the current invoice; `next_attempt_at` says when the next one runs. `claimed_by` names
    the outbox job debiting it right now (status Processing), so no second job debits it.
    """

    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_status_next_due_at", "status", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), unique=True)
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    interval_unit: Mapped[str] = mapped_column(String(10))
    interval_count: Mapped[int] = mapped_column(Integer, default=1)
    total_count: Mapped[int | None] = mapped_column(Integer)
    payments_made: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(64))
    saved_method: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_due_at: Mapped[dt.datetime | None]
    current_invoice_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[dt.datetime | None]

    @property
    def remaining(self) -> int | None:
        """Payments still to come (None: open-ended)."""
        if self.total_count is None:
            return None
        return max(0, self.total_count - self.payments_made)
