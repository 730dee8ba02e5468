"""catalogue and customer history store a message id and its parameters (issue 21)

`catalogue_event` and `customer_event` get `message_id` and `params`, as `order_event` did
(a21c_event_messages): the product, promo code and customer pages show each event in the
reader's language; rows written before keep NULL there and show their English `message`.

Revision ID: a21h_history_messages
Revises: a21w_staff_language
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a21h_history_messages"
down_revision: str | Sequence[str] | None = "a21w_staff_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("catalogue_event", "customer_event")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("message_id", sa.Text(), nullable=True))
            batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("params")
            batch.drop_column("message_id")
