"""order search indexes (issue 20): pg_trgm GIN on PostgreSQL, an FTS5 trigram table on SQLite

PostgreSQL: the pg_trgm extension (in `public` when there is one) and GIN trigram indexes
on buyer_name and buyer_email, which the search box's `col ILIKE '%q%'` uses.
SQLite: `shop_order_search`, an FTS5 table (trigram tokenizer, rowid = order id) filled from
shop_order and kept in step by triggers on shop_order, in the writer's own transaction.
Both: ix_shop_order_total (total, id), so the list sorted by total pages from an index.

Revision ID: a20s_search
Revises: a19a_customers
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a20s_search"
down_revision: str | Sequence[str] | None = "a19a_customers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# written out here, not imported: a revision keeps meaning what it meant
TABLE = "shop_order_search"
TRIGGERS = ("shop_order_search_ai", "shop_order_search_ad", "shop_order_search_au")
PG_INDEXES = {"ix_shop_order_search_name_trgm": "buyer_name",
              "ix_shop_order_search_email_trgm": "buyer_email"}
SQLITE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "buyer_name, buyer_email, tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[0]} AFTER INSERT ON shop_order BEGIN "
    f"INSERT INTO {TABLE}(rowid, buyer_name, buyer_email) "
    "VALUES (new.id, new.buyer_name, new.buyer_email); END",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[1]} AFTER DELETE ON shop_order BEGIN "
    f"DELETE FROM {TABLE} WHERE rowid = old.id; END",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[2]} AFTER UPDATE OF id, buyer_name, buyer_email "
    f"ON shop_order BEGIN DELETE FROM {TABLE} WHERE rowid = old.id; "
    f"INSERT INTO {TABLE}(rowid, buyer_name, buyer_email) "
    "VALUES (new.id, new.buyer_name, new.buyer_email); END",
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE}(rowid, buyer_name, buyer_email) "
    "SELECT id, buyer_name, buyer_email FROM shop_order",
)


def upgrade() -> None:
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_order_total"), ["total", "id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
        return
    found = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n " \
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    schema = bind.scalar(sa.text(found))
    if schema is None:  # queue concurrent installers: CREATE EXTENSION races on its name
        bind.execute(sa.text("SELECT pg_advisory_xact_lock(1953654637)"))
        schema = bind.scalar(sa.text(found))
    if schema is None:
        public = bind.scalar(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"))
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if public else ""))
        schema = bind.scalar(sa.text(found))
    for name, column in PG_INDEXES.items():
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON shop_order '
                   f'USING gin ({column} "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    else:
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_total"))
