"""catalogue managed by the shop (issue 18): prices per currency, the stock ledger, promo
terms and uses, the catalogue history, and product details (image, event, low stock)

Existing prices become each product's price in its own currency; each tracked product's
current stock becomes its ledger's opening row; existing promo codes get terms without
limits (they behave as before).

Revision ID: a18a_catalogue
Revises: a17a_sales_confirmation_moves
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a18a_catalogue"
down_revision: str | Sequence[str] | None = "a17a_sales_confirmation_moves"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("event_date", WHEN, nullable=True))
        batch_op.add_column(sa.Column("venue", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
    op.create_table(
        "product_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], ondelete="CASCADE",
                                name=op.f("fk_product_price_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_price")),
        sa.UniqueConstraint("product_id", "currency",
                            name=op.f("uq_product_price_product_id_currency")),
    )
    op.create_index(op.f("ix_product_price_product_id"), "product_price", ["product_id"])
    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=10), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], ondelete="CASCADE",
                                name=op.f("fk_stock_movement_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    op.create_index("ix_stock_movement_product_id_id", "stock_movement", ["product_id", "id"])
    op.create_index(op.f("ix_stock_movement_order_number"), "stock_movement", ["order_number"])
    op.create_index(op.f("ix_stock_movement_order_line_id"), "stock_movement",
                    ["order_line_id"])
    op.create_table(
        "promo_terms",
        sa.Column("promo_code_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", WHEN, nullable=True),
        sa.Column("valid_until", WHEN, nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("times_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("min_subtotal", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("first_order_only", sa.Boolean(), nullable=False),
        sa.Column("combinable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["promo_code_id"], ["promo_code.id"], ondelete="CASCADE",
                                name=op.f("fk_promo_terms_promo_code_id_promo_code")),
        sa.PrimaryKeyConstraint("promo_code_id", name=op.f("pk_promo_terms")),
    )
    op.create_table(
        "promo_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promo_code_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=10), nullable=False),
        sa.Column("customer_email", sa.String(length=254), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("released_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["promo_code_id"], ["promo_code.id"], ondelete="CASCADE",
                                name=op.f("fk_promo_use_promo_code_id_promo_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_use")),
    )
    op.create_index(op.f("ix_promo_use_promo_code_id"), "promo_use", ["promo_code_id"])
    op.create_index(op.f("ix_promo_use_order_number"), "promo_use", ["order_number"])
    op.create_index(op.f("ix_promo_use_customer_email"), "promo_use", ["customer_email"])
    op.create_table(
        "catalogue_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_event")),
    )
    op.create_index("ix_catalogue_event_subject_key", "catalogue_event", ["subject", "key"])
    op.execute("INSERT INTO product_price (product_id, currency, amount) "
               "SELECT id, currency, price FROM product")
    op.execute("INSERT INTO stock_movement (product_id, kind, change, units, actor, created_at) "
               "SELECT id, 'opening', stock, stock, 'migration', CURRENT_TIMESTAMP "
               "FROM product WHERE stock IS NOT NULL")
    op.execute("INSERT INTO promo_terms (promo_code_id, times_used, amounts, min_subtotal, "
               "products, categories, first_order_only, combinable) "
               "SELECT id, 0, '{}', '{}', '[]', '[]', FALSE, TRUE FROM promo_code")


def downgrade() -> None:
    op.drop_index("ix_catalogue_event_subject_key", table_name="catalogue_event")
    op.drop_table("catalogue_event")
    for name in ("ix_promo_use_customer_email", "ix_promo_use_order_number",
                 "ix_promo_use_promo_code_id"):
        op.drop_index(name, table_name="promo_use")
    op.drop_table("promo_use")
    op.drop_table("promo_terms")
    for name in ("ix_stock_movement_order_line_id", "ix_stock_movement_order_number",
                 "ix_stock_movement_product_id_id"):
        op.drop_index(name, table_name="stock_movement")
    op.drop_table("stock_movement")
    op.drop_index("ix_product_price_product_id", table_name="product_price")
    op.drop_table("product_price")
    with op.batch_alter_table("product", schema=None) as batch_op:
        for name in ("low_stock_threshold", "venue", "event_date", "image_url"):
            batch_op.drop_column(name)
