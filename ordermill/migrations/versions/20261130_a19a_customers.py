"""customer notes, history and erasures (issue 19)

`customer_note` holds staff notes, `customer_event` the history of changes to a customer
(edits, notes, merges, exports, erasure), `customer_erasure` one row per erased customer with
the pseudonym and the erasure report.

Revision ID: a19a_customers
Revises: a18a_catalogue
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a19a_customers"
down_revision: str | Sequence[str] | None = "a18a_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_note_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_note")),
    )
    op.create_index(op.f("ix_customer_note_customer_id"), "customer_note", ["customer_id"])
    op.create_table(
        "customer_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_event_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_event")),
    )
    op.create_index(op.f("ix_customer_event_customer_id"), "customer_event", ["customer_id"])
    op.create_table(
        "customer_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_erasure_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_erasure")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_erasure_customer_id")),
    )


def downgrade() -> None:
    op.drop_table("customer_erasure")
    op.drop_index(op.f("ix_customer_event_customer_id"), table_name="customer_event")
    op.drop_table("customer_event")
    op.drop_index(op.f("ix_customer_note_customer_id"), table_name="customer_note")
    op.drop_table("customer_note")
