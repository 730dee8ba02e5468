"""Engines and sessions for the embedded SQLite file and for PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and write transactions start with
BEGIN IMMEDIATE: a deferred transaction that reads and then writes can fail at once with
"database is locked" when another writer got in between, busy timeout or not. How long a
write waits for another process's lock is the busy timeout (ORDERMILL_DB_BUSY_TIMEOUT); past
it the action fails as DatabaseBusy (503), never a 500. PostgreSQL connections are checked
with a ping when taken from the pool, so one the server dropped while idle is replaced.

Every COMMIT of a write session is reported to `writes`, so an error answer knows whether
the request changed anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ordermill.core import writes

WRITE_OPTION = "ordermill_write"
DEFAULT_BUSY_TIMEOUT = 30.0


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any
                ) -> Engine:
    """An engine for `url`; `busy_timeout` (seconds) is how long SQLite waits for a lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)
        _configure_sqlite(engine, busy_timeout)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "commit", _on_commit)
    return engine


def _on_commit(connection: Any) -> None:
    if connection.get_execution_options().get(WRITE_OPTION, False):
        writes.commit_started()


def _on_session_commit(_session: Session) -> None:
    current = writes.current()
    if current is not None and current.in_flight:
        writes.commit_done()


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(read, write) session factories; write sessions take SQLite's write lock up front."""
    read = sessionmaker(engine, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    event.listen(write, "after_commit", _on_session_commit)
    return read, write
