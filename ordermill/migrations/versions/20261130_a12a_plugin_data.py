"""orders carry the values of the fields plugins add to the order request (issue 12)

`shop_order.plugin_data` is a JSON object, `{plugin name: {field: value}}`, filled when the
order is placed from the fields of the `order_request_fields` hook. Existing orders get {}.

Revision ID: a12a_plugin_data
Revises: a10e_books
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a12a_plugin_data"
down_revision: str | Sequence[str] | None = "a10e_books"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plugin_data", sa.JSON(), server_default="{}",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_column("plugin_data")
