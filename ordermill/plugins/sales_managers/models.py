"""The sales_managers plugin's table: one confirmation per confirmed sale.

Attribution (`Order.sales_manager_id`, set at placement by staff) is the core's; whether
someone checked and confirmed it is this plugin's. A row here means "confirmed"; no row means
the sale is unconfirmed (red in the admin). Created in production by the plugin's own
Alembic branch (migrations/, branch label "sales_managers"); rows go with their order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ordermill.api import Base, utcnow


class SalesConfirmation(Base):
    """Who confirmed an order's sale, and when. `confirmed_by_id` is the staff member (None
    for a system actor or a confirmation carried over by migration), `confirmed_by` the
    actor's label as history shows it."""

    __tablename__ = "sales_confirmation"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), primary_key=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    confirmed_by: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


__all__ = ["SalesConfirmation"]
