"""pricing adjustments and tax (issue 15): order_adjustment, refund_tax, per-line tax,
order fee and tax totals, the buyer's VAT number on customer and order

Revision ID: a15t_pricing
Revises: a15a_tax_class
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a15t_pricing"
down_revision: str | Sequence[str] | None = "a15a_tax_class"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("rate", sa.Numeric(9, 4), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("included", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"], ondelete="CASCADE",
                                name=op.f("fk_order_adjustment_order_id_shop_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_adjustment")),
    )
    op.create_index(op.f("ix_order_adjustment_order_id"), "order_adjustment", ["order_id"])
    op.create_table(
        "refund_tax",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("rate", sa.Numeric(9, 4), nullable=True),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], ondelete="CASCADE",
                                name=op.f("fk_refund_tax_payment_id_payment")),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"], ondelete="SET NULL",
                                name=op.f("fk_refund_tax_order_id_shop_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_tax")),
    )
    op.create_index(op.f("ix_refund_tax_payment_id"), "refund_tax", ["payment_id"])
    op.create_index(op.f("ix_refund_tax_order_id"), "refund_tax", ["order_id"])
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax", sa.BigInteger(), server_default="0",
                                      nullable=False))
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_total", sa.BigInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("tax_total", sa.BigInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("vat_id", sa.String(length=40), nullable=True))
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vat_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("vat_id")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_column("vat_id")
        batch_op.drop_column("tax_total")
        batch_op.drop_column("fee_total")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("tax")
    op.drop_index(op.f("ix_refund_tax_order_id"), table_name="refund_tax")
    op.drop_index(op.f("ix_refund_tax_payment_id"), table_name="refund_tax")
    op.drop_table("refund_tax")
    op.drop_index(op.f("ix_order_adjustment_order_id"), table_name="order_adjustment")
    op.drop_table("order_adjustment")
