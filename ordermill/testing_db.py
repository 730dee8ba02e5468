"""Throw-away databases for the `mill` fixture, built once and reset cheaply.

Creating the schema for every test was most of the suite's time. Instead:

* SQLite: one file with the schema is built per test process (per xdist worker) and each test
  gets a byte copy of it, a fresh database for the price of a file copy. One engine per process
  serves every test's copy (it connects to the current test's file), because SQLAlchemy caches
  compiled statements per engine and a fresh engine per test spent a fifth of a short test
  compiling the same SELECTs again.
* PostgreSQL: one schema per test process. A test runs inside an outer transaction on one
  pinned connection that is rolled back at the end; the app's write sessions join it through
  savepoints (SQLAlchemy's join_transaction_mode="create_savepoint"), so an action's commit is
  a RELEASE SAVEPOINT that the rest of the test sees, and its rollback still undoes only that
  action. Tests marked `commits` (threads, a second engine, a subprocess: anything that needs
  another connection to see real commits) run on the plain engine and the tables are
  TRUNCATEd after them.

Every Ordermill made on the test's engine during the test (the fixture's `mill`, or one a test
builds with `engine=mill.engine` and other plugins or settings) shares the pinned connection.
A rollback-mode test that opens a second connection to its schema (another engine), uses the
pinned connection from another thread, or really COMMITs on it fails with a message saying to
mark it `commits`: a test that silently never committed would be worse than a slow one.
Worker *processes* cannot be seen from here: a test that starts them must be marked.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from ordermill.core import app as app_module
from ordermill.core.db import DEFAULT_BUSY_TIMEOUT, QueuedConnection, make_engine
from ordermill.core.models import Base

COMMITS_HINT = ("mark the test @pytest.mark.commits: it needs real commits that other "
                "connections can see")


@functools.cache
def import_plugin_models() -> None:
    """Import every installed plugin once, so tables plugins add to Base exist before
    create_all (whichever test happens to run first)."""
    for entry_point in importlib.metadata.entry_points(group="ordermill"):
        with contextlib.suppress(Exception):  # a broken plugin fails in its own tests
            entry_point.load()


def metadata_key() -> tuple[str, ...]:
    """The tables the models describe now; a test module may add some after start-up."""
    import_plugin_models()
    return tuple(sorted(Base.metadata.tables))


class SqliteTemplate:
    """A SQLite file with the schema in place, built once per process and copied per test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._built: dict[tuple[str, ...], Path] = {}
        self._engine: Engine | None = None
        self._current: Path | None = None

    def path(self) -> Path:
        key = metadata_key()
        if key not in self._built:
            path = self.folder / f"template-{len(self._built)}.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            Base.metadata.create_all(engine)
            with engine.connect() as connection:  # everything into the main file
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self._built[key] = path
        return self._built[key]

    def copy_to(self, target: Path) -> str:
        """Copy the template to `target` and return its URL."""
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(), target)
        return f"sqlite:///{target}"

    def engine_for(self, target: Path) -> Engine:
        """This process's SQLite engine, connecting to `target` until the next call.

        Release it with `release()` at the end of the test: its pooled connections belong to
        that test's file. A test that needs an engine of its own still makes one.
        """
        self._current = target
        if self._engine is None:
            self._engine = make_engine(f"sqlite:///{target}", creator=self._connect)
        return self._engine

    def release(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._current = None

    def _connect(self) -> sqlite3.Connection:
        if self._current is None:
            raise RuntimeError("the shared test SQLite engine was used after its test ended")
        # What SQLAlchemy's pysqlite dialect passes for a file database, plus make_engine's
        # busy timeout; make_engine's connect listener sets the pragmas as for any engine.
        return sqlite3.connect(str(self._current), timeout=DEFAULT_BUSY_TIMEOUT,
                               check_same_thread=False, factory=QueuedConnection)


class PostgresSchema:
    """A private schema on the test server for one test process; URL carries its search_path."""

    def __init__(self, base_url: str) -> None:
        self.name = f"om_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        separator = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{separator}options=-csearch_path%3D{self.name}"
        self._admin = make_engine(base_url, pool_size=1)
        with self._admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.name}"'))
        self.engine: Engine = make_engine(self.url)
        self._tables_for: tuple[str, ...] = ()
        self.tables = ""
        self.dirty = False
        self._pinned: Connection | None = None
        self._opening = False
        self._owner = 0
        self.violations: list[str] = []
        event.listen(Engine, "engine_connect", self._guard_connect)
        self.ensure_tables()

    # ---- schema -----------------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create what the models describe and is missing (a test module may add tables)."""
        key = metadata_key()
        if key != self._tables_for:
            Base.metadata.create_all(self.engine)
            self.tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            self._tables_for = key

    def truncate(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {self.tables} RESTART IDENTITY CASCADE"))
        self.dirty = False

    def drop(self) -> None:
        event.remove(Engine, "engine_connect", self._guard_connect)
        self.engine.dispose()
        with self._admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self._admin.dispose()

    # ---- one test ---------------------------------------------------------------------

    @property
    def pinned_connection(self) -> Connection | None:
        """The running rollback-mode test's connection, if one is running."""
        return self._pinned

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        """A `commits` test: the real engine, then empty tables for whoever comes next."""
        self.ensure_tables()
        if self.dirty:
            self.truncate()
        self.dirty = True
        try:
            yield
        finally:
            self.truncate()

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Connection]:
        """One connection in an outer transaction for the whole test, rolled back after."""
        self.ensure_tables()
        if self.dirty:
            self.truncate()
        self.violations = []
        self._opening = True
        try:
            connection = self.engine.connect()
        finally:
            self._opening = False
        outer = connection.begin()
        self._pinned, self._owner = connection, threading.get_ident()
        event.listen(connection, "before_cursor_execute", self._guard_thread)
        event.listen(connection, "commit", self._guard_commit)
        original = app_module.session_factories

        def factories(engine: Any) -> Any:
            """Every Ordermill made on the test's engine (the fixture's, or another one a
            test builds with engine=mill.engine) works on the pinned connection."""
            read, write = original(engine)
            if engine is self.engine:
                pin_sessions(read, write, connection)
            return read, write

        app_module.session_factories = factories
        try:
            yield connection
        finally:
            app_module.session_factories = original
            self._pinned = None
            event.remove(connection, "before_cursor_execute", self._guard_thread)
            event.remove(connection, "commit", self._guard_commit)
            if outer.is_active:
                outer.rollback()
            else:  # someone ended the outer transaction: what followed may have committed
                self.violations.append("the test's outer transaction was ended early")
                self.dirty = True
            connection.close()
            if self.dirty:
                self.truncate()

    def _violation(self, what: str) -> None:
        message = f"{what} in a rollback-mode PostgreSQL test; {COMMITS_HINT}."
        self.violations.append(message)
        raise RuntimeError(message)

    def _guard_connect(self, connection: Connection, *_: Any) -> None:
        if self._pinned is None or self._opening:
            return
        if self.name in connection.engine.url.render_as_string(hide_password=True):
            self._violation("a second connection to the test schema was opened")

    def _guard_thread(self, *_: Any) -> None:
        if threading.get_ident() != self._owner:
            self._violation("the test's connection was used from another thread")

    def _guard_commit(self, *_: Any) -> None:
        self.dirty = True
        self._violation("the test's outer transaction was committed")


def pin_sessions(read: sessionmaker[Session], write: sessionmaker[Session],
                 connection: Connection) -> None:
    """Bind an app's session factories to the test's pinned connection.

    Write sessions turn their transactions into savepoints of the outer one; read sessions
    join it without touching it (closing a read session must not roll back to a savepoint
    taken before a write that happened meanwhile, as it would with create_savepoint).
    """
    write.configure(bind=connection, join_transaction_mode="create_savepoint")
    read.configure(bind=connection, join_transaction_mode="rollback_only")
