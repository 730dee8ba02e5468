"""deleting an order keeps its money records (issue 10 item 18)

Payments and invoices outlive their order: `order_id` becomes nullable with ON DELETE SET
NULL, and `order_number` keeps the deleted order's reference (filled in at deletion).

Revision ID: a10e_books
Revises: a10d_outbox
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a10e_books"
down_revision: str | Sequence[str] | None = "a10d_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("invoice", "payment")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("order_number", sa.String(length=10), nullable=True))
            batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=True)
            batch_op.drop_constraint(f"fk_{table}_order_id_shop_order", type_="foreignkey")
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_order_id_shop_order"), "shop_order", ["order_id"],
                ["id"], ondelete="SET NULL")
            batch_op.create_index(batch_op.f(f"ix_{table}_order_number"), ["order_number"],
                                  unique=False)


def downgrade() -> None:
    # rows of deleted orders cannot point at an order again: they go, as before this revision
    for table in ("payment", "invoice"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE order_id IS NULL"))
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_order_number"))
            batch_op.drop_constraint(f"fk_{table}_order_id_shop_order", type_="foreignkey")
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_order_id_shop_order"), "shop_order", ["order_id"],
                ["id"])
            batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column("order_number")
