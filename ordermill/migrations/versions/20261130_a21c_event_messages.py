"""history events store a message id and its parameters (issue 21)

`order_event.message_id` and `order_event.params` let the history show each event in the
reader's language; rows written before keep NULL there and show their English `message`.

Revision ID: a21c_event_messages
Revises: a20s_search
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a21c_event_messages"
down_revision: str | Sequence[str] | None = "a20s_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_event") as batch:
        batch.add_column(sa.Column("message_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_event") as batch:
        batch.drop_column("params")
        batch.drop_column("message_id")
