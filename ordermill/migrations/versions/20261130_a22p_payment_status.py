"""stored payment status (issue 20): `shop_order.payment_status`, indexed with placed_at

The order list's payment-status filter summed every order's payments in SQL (a scan: 2.5 s
on SQLite, 6.6 s on PostgreSQL at 100k orders). The status is now stored on the order, kept
by every action in its own transaction, and indexed with `placed_at` so a filtered list
pages newest first from the index. `ix_shop_order_placed_at` gets `id` (the sort's tie
break), so the default list and its deep pages read the index alone.

Existing orders get "" (not computed yet): `ordermill init` (core.schema.upgrade_database)
then fills them with the installed derivation (core.payment_state.refresh), since revisions
import no ordermill code and a derived value must be computed the way the running code
computes it.

Revision ID: a22p_payment_status
Revises: a21h_history_messages
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a22p_payment_status"
down_revision: str | Sequence[str] | None = "a21h_history_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_shop_order_payment_status_placed_at"


def upgrade() -> None:
    # a plain ADD COLUMN, not a batch copy: on SQLite that would drop the search triggers
    op.add_column("shop_order", sa.Column("payment_status", sa.String(length=20),
                                          nullable=False, server_default=""))
    op.create_index(INDEX, "shop_order", ["payment_status", "placed_at", "id"], unique=False)
    # the default sort (placed_at, id) from the index alone: deep pages skip index entries
    op.drop_index("ix_shop_order_placed_at", table_name="shop_order")
    op.create_index("ix_shop_order_placed_at", "shop_order", ["placed_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shop_order_placed_at", table_name="shop_order")
    op.create_index("ix_shop_order_placed_at", "shop_order", ["placed_at"], unique=False)
    op.drop_index(INDEX, table_name="shop_order")
    op.drop_column("shop_order", "payment_status")  # SQLite >= 3.35 drops it in place
