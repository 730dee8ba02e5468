"""Indexes behind the order search box: trigram indexes, so a substring search is no scan.

The search box matches a buyer's name or e-mail anywhere (case-insensitive) and an order
number by its first digits. At 100k orders a `LIKE '%...%'` scan costs hundreds of ms, so:

- PostgreSQL: pg_trgm GIN indexes on buyer_name and buyer_email; the query keeps its
  `col ILIKE '%q%'` form (SQLAlchemy's icontains) and the planner picks the indexes.
- SQLite: an FTS5 table with the trigram tokenizer (`shop_order_search`, rowid = order id),
  kept in step by triggers on shop_order, so every writer (actions, erasure, deletion, a
  bulk load, another process) updates it in its own transaction. A MATCH gives candidate
  ids; the original LIKE conditions re-check them, so results are exactly those of a scan.
- an order number prefix is a range on the unique `number` column (digits only).
- a whole e-mail address is an equality on the indexed `buyer_email` column (stored
  lower-case), not a substring: its trigrams ("@example.com") are in every row.
- a whole order number (10 digits) is an equality on the unique `number` column.

Created by the migration `a20s_search` and, for databases made from the models (tests),
by the `after_create` listener below. This module imports no models: models.py attaches it.
Alembic's comparison ignores these objects (`include_object`): the models do not describe
them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, event, text

SEARCH_TABLE = "shop_order_search"
TRIGGERS = ("shop_order_search_ai", "shop_order_search_ad", "shop_order_search_au")
PG_INDEXES = ("ix_shop_order_search_name_trgm", "ix_shop_order_search_email_trgm")
MIN_TRIGRAM = 3  # shorter text has no trigram: such a search scans

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
    "buyer_name, buyer_email, tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[0]} AFTER INSERT ON shop_order BEGIN "
    f"INSERT INTO {SEARCH_TABLE}(rowid, buyer_name, buyer_email) "
    "VALUES (new.id, new.buyer_name, new.buyer_email); END",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[1]} AFTER DELETE ON shop_order BEGIN "
    f"DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; END",
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[2]} AFTER UPDATE OF id, buyer_name, buyer_email "
    f"ON shop_order BEGIN DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; "
    f"INSERT INTO {SEARCH_TABLE}(rowid, buyer_name, buyer_email) "
    "VALUES (new.id, new.buyer_name, new.buyer_email); END",
)
SQLITE_FILL = (f"DELETE FROM {SEARCH_TABLE}",
               f"INSERT INTO {SEARCH_TABLE}(rowid, buyer_name, buyer_email) "
               "SELECT id, buyer_name, buyer_email FROM shop_order")


def _pg_index_ddl(schema: str) -> tuple[str, ...]:
    ops = f'"{schema}".gin_trgm_ops'
    return (f"CREATE INDEX IF NOT EXISTS {PG_INDEXES[0]} ON shop_order "
            f"USING gin (buyer_name {ops})",
            f"CREATE INDEX IF NOT EXISTS {PG_INDEXES[1]} ON shop_order "
            f"USING gin (buyer_email {ops})")


#: advisory lock key serialising CREATE EXTENSION pg_trgm ("trgm" in ASCII)
TRGM_LOCK = 0x7472676D


def trgm_schema(connection: Connection) -> str:
    """The schema holding pg_trgm, creating the extension when missing (in `public` when
    there is one, so a per-test schema dropped later does not take it along)."""
    def found() -> str | None:
        return connection.scalar(text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"))

    schema = found()
    if schema is None:
        # two processes creating the schema at once (xdist workers, two app instances) race
        # on CREATE EXTENSION even with IF NOT EXISTS: the second fails on pg_extension's
        # unique name. A transaction-scoped advisory lock queues them; the second then finds it.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TRGM_LOCK})
        schema = found()
    if schema is None:
        public = connection.scalar(text(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"))
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"
                                + (" SCHEMA public" if public else "")))
        schema = found()
    assert schema is not None
    return schema


def install(connection: Connection) -> None:
    """Create the search indexes (idempotent) and fill the SQLite table from shop_order."""
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DDL + SQLITE_FILL:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql":
        for statement in _pg_index_ddl(trgm_schema(connection)):
            connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    elif connection.dialect.name == "postgresql":
        for index in PG_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")


def is_installed(connection: Connection) -> bool:
    """Whether every trigger (SQLite) or index (PostgreSQL) is there: a batch migration that
    recreates shop_order on SQLite drops its triggers."""
    if connection.dialect.name == "sqlite":
        names = set(connection.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'shop_order'")))
        return set(TRIGGERS) <= names
    if connection.dialect.name == "postgresql":
        names = set(connection.scalars(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'shop_order' "
            "AND schemaname = current_schema()")))
        return set(PG_INDEXES) <= names
    return True


def attach(table: Table) -> None:
    """Create the indexes with shop_order when a database is made from the models."""
    def created(_target: Any, connection: Connection, **_kw: Any) -> None:
        install(connection)

    def dropping(_target: Any, connection: Connection, **_kw: Any) -> None:
        uninstall(connection)

    event.listen(table, "after_create", created)
    event.listen(table, "before_drop", dropping)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   _compare_to: Any) -> bool:
    """Alembic comparison filter: the search objects live outside the models."""
    if not reflected or name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE)
    if type_ == "index":
        return name not in PG_INDEXES
    return True


def is_email(q: str) -> bool:
    """Whether `q` is a whole e-mail address (searched by equality, not as a substring)."""
    local, at, domain = q.partition("@")
    return bool(at and local and "." in domain.strip(".") and "@" not in domain
                and not any(char.isspace() for char in q))


def is_order_number(q: str) -> bool:
    """Whether `q` is a whole order number (10 digits, "#" allowed): found by equality."""
    digits = q.lstrip("#")
    return len(digits) == 10 and digits.isdigit() and digits.isascii()


def fts_phrase(q: str) -> str:
    """`q` as an FTS5 phrase: one quoted string, inner quotes doubled (no query syntax)."""
    return '"' + q.replace('"', '""') + '"'


def number_range(digits: str) -> tuple[str, str | None]:
    """[low, high) of the numbers starting with `digits` (a digit string), high None = open."""
    if set(digits) == {"9"}:
        return digits, None
    return digits, str(int(digits) + 1).zfill(len(digits))
