"""the sales confirmation leaves the order; orders are found by payment date (issue 17)

`shop_order.sales_confirmed` is dropped: confirming a sale is the `sales_managers` plugin's,
which keeps confirmations in its own table (its Alembic branch). So that no confirmation is
lost whether or not that plugin is installed, every confirmed order first gets a
`sale_confirmed` history event naming its sales manager: the plugin's branch (which
`depends_on` this revision) fills its table from those events, now or whenever it is
installed later, and the downgrade below restores the column from them.

`ix_shop_order_paid_at` and `ix_payment_report` (payments by date, gateway and currency, the
amounts in the index so that the report reads no table row) serve the reports, which count
revenue by payment date.

Revision ID: a17a_sales_confirmation_moves
Revises: a16a_renewal_invoices
Create Date: 2026-11-30 21:40:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a17a_sales_confirmation_moves"
down_revision: str | Sequence[str] | None = "a16a_renewal_invoices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPE = "sale_confirmed"
EVENT_ACTOR = "system:migration"
EVENT_MESSAGE = "Sale confirmed (recorded when the confirmation moved out of the order)."

shop_order = sa.table("shop_order", sa.column("id", sa.Integer()),
                      sa.column("number", sa.String()),
                      sa.column("sales_manager_id", sa.Integer()),
                      sa.column("sales_confirmed", sa.Boolean()))
order_event = sa.table("order_event", sa.column("order_id", sa.Integer()),
                       sa.column("order_number", sa.String()), sa.column("type", sa.String()),
                       sa.column("actor", sa.String()), sa.column("message", sa.Text()),
                       sa.column("notify_customer", sa.Boolean()),
                       sa.column("visible_to_customer", sa.Boolean()),
                       sa.column("data", sa.JSON()),
                       sa.column("created_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    connection = op.get_bind()
    confirmed = connection.execute(
        sa.select(shop_order.c.id, shop_order.c.number, shop_order.c.sales_manager_id)
        .where(shop_order.c.sales_confirmed.is_(True))).all()
    now = dt.datetime.now(dt.UTC)
    if confirmed:
        connection.execute(sa.insert(order_event), [
            {"order_id": order_id, "order_number": number, "type": EVENT_TYPE,
             "actor": EVENT_ACTOR, "message": EVENT_MESSAGE, "notify_customer": False,
             "visible_to_customer": False, "created_at": now,
             "data": {"sales_manager_id": manager_id, "migrated": True}}
            for order_id, number, manager_id in confirmed])
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_column("sales_confirmed")
        batch_op.create_index(batch_op.f("ix_shop_order_paid_at"),
                              ["paid_at", "currency", "payment_method"], unique=False)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_report"), [
            "created_at", "status", "gateway", "currency", "kind", "amount", "fee", "order_id"],
            unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_report"))
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_paid_at"))
        batch_op.add_column(sa.Column("sales_confirmed", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    confirmed_ids = sa.select(order_event.c.order_id).where(
        order_event.c.type == EVENT_TYPE, order_event.c.order_id.is_not(None))
    op.get_bind().execute(sa.update(shop_order).where(shop_order.c.id.in_(confirmed_ids))
                          .values(sales_confirmed=True))
