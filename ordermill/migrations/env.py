"""Alembic environment for ordermill. Configured in code by ordermill.core.schema; no alembic.ini.

How revisions are made and applied (all from the repository root):

  .venv/bin/python -m ordermill.core.schema revision -m "add product weight"
      autogenerate a new revision from the models (compared against a throw-away SQLite
      database brought to the current heads, so no server is needed and the output is in
      batch mode, which runs on both SQLite and PostgreSQL). Read it before committing.
  .venv/bin/python -m ordermill.core.schema regenerate-initial
      while the history is still a single revision (before the first release), rewrite it
      from the current models instead of stacking a new revision on top.
  .venv/bin/python -m ordermill.core.schema upgrade [--url URL]
      apply every head; `ordermill init` does the same through upgrade_database(mill).

The connection comes from `config.attributes["connection"]` when the caller has one (so
upgrade_database runs on the app's own engine, with its SQLite pragmas); otherwise an engine
is made from `sqlalchemy.url` with ordermill's make_engine.

SQLite notes: operations render in batch mode (copy-and-move, since SQLite's ALTER TABLE is
limited), the whole upgrade runs in one transaction (SQLite has transactional DDL even
though Alembic assumes otherwise), and foreign keys are switched off while tables are
recreated and checked with `PRAGMA foreign_key_check` before the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, text

from ordermill.core.db import WRITE_OPTION, make_engine
from ordermill.core.models import Base
from ordermill.core.schema import comparison_options

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        transactional_ddl=True,
        **comparison_options(),
    )


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Turn SQLite foreign keys off around a batch migration, and back on afterwards.

    Batch mode drops and recreates tables; with foreign keys on, dropping a referenced table
    deletes or rejects the referring rows. The pragma is a no-op inside a transaction, so it
    goes straight to the driver before Alembic begins one.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    """Fail (and roll back) when a batch migration left a dangling foreign key."""
    if connection.dialect.name != "sqlite":
        return
    problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if problems:
        raise RuntimeError(f"migration broke foreign keys (table, rowid, parent, fk): {problems}")


def run_on(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        # BEGIN IMMEDIATE: take the write lock up front, like every other writer (core/db.py).
        connection.execution_options(**{WRITE_OPTION: True})
    with _sqlite_foreign_keys_off(connection):
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            _check_sqlite_foreign_keys(connection)


def run_migrations_offline() -> None:
    """`--sql` mode: write the SQL out instead of running it (for a DBA to review)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        transactional_ddl=True,
        **comparison_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
