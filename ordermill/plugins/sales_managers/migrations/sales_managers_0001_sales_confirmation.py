"""sales_managers: confirmations move in from the order

The core revision a17a_sales_confirmation_moves recorded each confirmed order as a
`sale_confirmed` history event before dropping `shop_order.sales_confirmed`; this revision
depends on it, creates the plugin's table and fills it from those events (the latest per
order), so no confirmation is lost, whenever the plugin is installed.

Revision ID: sales_managers_0001
Revises: (base)
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "sales_managers_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sales_managers",)
depends_on: str | Sequence[str] | None = "a17a_sales_confirmation_moves"

order_event = sa.table("order_event", sa.column("id", sa.Integer()),
                       sa.column("order_id", sa.Integer()), sa.column("type", sa.String()),
                       sa.column("actor", sa.String()),
                       sa.column("created_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    confirmation = op.create_table(
        "sales_confirmation",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=200), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["staff_user.id"],
                                name=op.f("fk_sales_confirmation_confirmed_by_id_staff_user")),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"],
                                name=op.f("fk_sales_confirmation_order_id_shop_order"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_sales_confirmation")),
    )
    with op.batch_alter_table("sales_confirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_confirmation_confirmed_at"), ["confirmed_at"],
                              unique=False)
    latest = (sa.select(sa.func.max(order_event.c.id))
              .where(order_event.c.type == "sale_confirmed", order_event.c.order_id.is_not(None))
              .group_by(order_event.c.order_id))
    connection = op.get_bind()
    rows = connection.execute(sa.select(order_event.c.order_id, order_event.c.actor,
                                        order_event.c.created_at)
                              .where(order_event.c.id.in_(latest))).all()
    if rows:
        connection.execute(sa.insert(confirmation), [
            {"order_id": order_id, "confirmed_by_id": None, "confirmed_by": actor,
             "confirmed_at": created_at} for order_id, actor, created_at in rows])


def downgrade() -> None:
    # every confirmation also wrote a `sale_confirmed` event, which the core's downgrade reads
    with op.batch_alter_table("sales_confirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_confirmation_confirmed_at"))
    op.drop_table("sales_confirmation")
