"""invoices get a lifecycle, numbers and a snapshot; credit notes and number counters (issue 15)

`invoice.state` is draft, issued or void (existing invoices stay draft: never numbered);
`invoice.number` is unique once issued. `document_counter` holds the last number of each
series and year; `credit_note` the documents refunds and deletions issue.

Revision ID: a15b_invoice_numbers
Revises: a15t_pricing
Create Date: 2026-11-30 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a15b_invoice_numbers"
down_revision: str | Sequence[str] | None = "a15t_pricing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=10), server_default="draft",
                                      nullable=False))
        batch_op.add_column(sa.Column("number", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("issued_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_invoice_number"), ["number"])
    op.create_table(
        "document_counter",
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_document_counter")),
    )
    op.create_table(
        "credit_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=10), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("tax_breakdown", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"],
                                name=op.f("fk_credit_note_invoice_id_invoice"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"],
                                name=op.f("fk_credit_note_order_id_shop_order"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["refund_id"], ["payment.id"],
                                name=op.f("fk_credit_note_refund_id_payment"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_note_number")),
    )
    with op.batch_alter_table("credit_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_note_invoice_id"), ["invoice_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_credit_note_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_note_order_number"), ["order_number"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credit_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_note_order_number"))
        batch_op.drop_index(batch_op.f("ix_credit_note_order_id"))
        batch_op.drop_index(batch_op.f("ix_credit_note_invoice_id"))
    op.drop_table("credit_note")
    op.drop_table("document_counter")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invoice_number"), type_="unique")
        batch_op.drop_column("snapshot")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("issued_at")
        batch_op.drop_column("number")
        batch_op.drop_column("state")
