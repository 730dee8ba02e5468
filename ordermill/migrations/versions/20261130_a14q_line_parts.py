"""order lines split by a partial cancel or refund point at the line they came from (issue 14)

`order_line.parent_line_id` is set on the part a partial cancel or refund splits off (1 of 3
tickets); NULL everywhere else, so existing lines need no data change.

Revision ID: a14q_line_parts
Revises: a15b_invoice_numbers
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a14q_line_parts"
down_revision: str | Sequence[str] | None = "a15b_invoice_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_line_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_order_line_parent_line_id_order_line"), "order_line",
            ["parent_line_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_order_line_parent_line_id_order_line"),
                                 type_="foreignkey")
        batch_op.drop_column("parent_line_id")
