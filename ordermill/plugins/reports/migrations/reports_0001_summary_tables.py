"""reports: the summary tables the reports read, filled from the existing orders

Creates `report_line` (one row per sold line of a paid order) and `report_money` (one row per
succeeded payment and per order), then fills them from every order and payment already in
the database, so the reports are right from the first request.

The filling calls the plugin's `facts.rebuild` (the same code as `ordermill report
rebuild`), imported when it runs: the summary is derived data, and it must be computed the
way the installed reports compute it, not the way they did when this revision was written.

Revision ID: reports_0001
Revises: (base)
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "reports_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reports",)
depends_on: str | Sequence[str] | None = "a19a_customers"

MONEY_AMOUNTS = ("gross", "tax", "refunds", "fees")
# the covering indexes' columns after their GROUP BY keys
LINE_COVER = ("paid_at", "gateway", "units", "gross", "discounts", "tax", "refunds", "fees")
MONEY_COVER = ("at", "orders", "payments", "gross", "tax", "refunds", "fees")


def upgrade() -> None:
    op.create_table(
        "report_line",
        sa.Column("line_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False)
          for name in ("units", "gross", "discounts", "tax", "refunds", "fees")),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_report_line")),
    )
    op.create_index("ix_report_line_order_id", "report_line", ["order_id"])
    op.create_index("ix_report_line_paid_at", "report_line", ["paid_at"])
    op.create_index("ix_report_line_products", "report_line",
                    ["sku", "product", "currency", *LINE_COVER])
    op.create_index("ix_report_line_categories", "report_line",
                    ["category", "currency", *LINE_COVER])
    op.create_table(
        "report_money",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_currency", sa.String(length=3), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in MONEY_AMOUNTS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_money")),
    )
    op.create_index("ix_report_money_order_id", "report_money", ["order_id"])
    op.create_index("ix_report_money_payment_id", "report_money", ["payment_id"])
    op.create_index("ix_report_money_at", "report_money", ["at"])
    op.create_index("ix_report_money_payments", "report_money",
                    ["currency", "gateway", "payment_id", *MONEY_COVER])
    op.create_index("ix_report_money_managers", "report_money",
                    ["manager_id", "order_currency", "order_id", "gateway", *MONEY_COVER])
    from ordermill.plugins.reports.facts import rebuild  # see the docstring

    rebuild(op.get_bind())


def downgrade() -> None:
    for index in ("ix_report_money_managers", "ix_report_money_payments",
                  "ix_report_money_at", "ix_report_money_payment_id",
                  "ix_report_money_order_id"):
        op.drop_index(index, table_name="report_money")
    op.drop_table("report_money")
    for index in ("ix_report_line_categories", "ix_report_line_products",
                  "ix_report_line_paid_at", "ix_report_line_order_id"):
        op.drop_index(index, table_name="report_line")
    op.drop_table("report_line")
