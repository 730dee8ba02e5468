"""customer order links expire and can be revoked (issue 10 item 14)

Revision ID: a10b_links
Revises: a10a_api
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a10b_links"
down_revision: str | Sequence[str] | None = "a10a_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing links carry no version: they count as version 0 until the order's are revoked
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_link_version", sa.Integer(),
                                      server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_column("customer_link_version")
