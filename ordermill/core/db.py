"""Engines and sessions for the embedded SQLite file and for PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and write transactions start with
BEGIN IMMEDIATE: a deferred transaction that reads and then writes can fail at once with
"database is locked" when another writer got in between, busy timeout or not. How long a
write waits for another process's lock is the busy timeout (ORDERMILL_DB_BUSY_TIMEOUT); past
it the action fails as DatabaseBusy (503), never a 500. PostgreSQL connections are checked
with a ping when taken from the pool after `PING_AFTER_IDLE` seconds unused, so one the server
dropped while idle is replaced; one back in the pool for less was just used (a ping on every
checkout was 3 round trips of the 25 of a placement over HTTP). A connection the server
dropped within that second fails its statement: actions run again once (core.retry), as do
the reads every request makes (the API token, the admin's session user), and any other read
answers 503 with Retry-After; SQLAlchemy then throws the pool's older connections away.

Writers of one process queue for the SQLite file (`WriterQueue`: a free turn is taken at
once, a writer waiting over 20 ms is handed the next one) before BEGIN IMMEDIATE, instead of
sleeping in SQLite's busy handler, whose back-off (up to 100 ms a try) made 8 concurrent
clients wait seconds at p99. Then it takes the turn between processes, an flock beside the
file (core.writer_lock), so two server processes, or a server and a worker, do not meet in
the busy handler either. The turns are given back when the holder's connection commits or
rolls back; a writer that waits longer than the busy timeout for them fails as "database is
locked" (DatabaseBusy), as it would on SQLite's own lock.

Every COMMIT of a write session is reported to `writes`, so an error answer knows whether
the request changed anything.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ordermill.core import writes
from ordermill.core.hot_sql import HotStatement
from ordermill.core.writer_lock import FileTurn

WRITE_OPTION = "ordermill_write"
DEFAULT_BUSY_TIMEOUT = 30.0


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any
                ) -> Engine:
    """An engine for `url`; `busy_timeout` (seconds) is how long SQLite waits for a lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": busy_timeout, "factory": QueuedConnection,
                        **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, busy_timeout)
    else:
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine)
    event.listen(engine, "commit", _on_commit)
    return engine


PING_AFTER_IDLE = 1.0  # seconds a pooled PostgreSQL connection may rest before a ping
_CHECKED_IN = "ordermill_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, for connections idle `PING_AFTER_IDLE` or more: a
    DisconnectionError makes the pool throw the dead one away and take another."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi: Any, record: Any, _proxy: Any) -> None:
        rested = time.monotonic() - record.info.get(_CHECKED_IN, float("-inf"))
        if rested < PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except Exception as error:
            raise DisconnectionError(f"ping failed: {error}") from error
        if not alive:  # pragma: no cover - psycopg raises instead
            raise DisconnectionError("ping failed")


def _on_commit(connection: Any) -> None:
    if connection.get_execution_options().get(WRITE_OPTION, False):
        writes.commit_started()


def _on_session_commit(_session: Session) -> None:
    current = writes.current()
    if current is not None and current.in_flight:
        writes.commit_done()


# sent on the driver's cursor (core.hot_sql): exec_driver_sql's execution context cost more
# than SQLite's BEGIN, paid by every transaction
_BEGIN = HotStatement(text("BEGIN"))
_BEGIN_IMMEDIATE = HotStatement(text("BEGIN IMMEDIATE"))


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

        if isinstance(dbapi_connection, QueuedConnection):
            dbapi_connection.writers = writer_queue(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        if not write:
            _BEGIN.rowcount(connection, {})
            return
        dbapi = connection.connection.dbapi_connection
        queued = isinstance(dbapi, QueuedConnection) and dbapi.writers is not None
        if queued and not dbapi.take_turn(busy_timeout):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                "database is locked (other writers came first)"))
        try:
            _BEGIN_IMMEDIATE.rowcount(connection, {})
        except BaseException:
            if queued:
                dbapi.end_turn()
            raise


class WriterQueue:
    """The turn to write one SQLite file, for the threads of this process: fair, but quick.

    A free turn is taken at once (no hand-over to a sleeping thread: that costs throughput on
    a busy machine). A writer that has waited `patience` seconds is handed the turn straight
    by the next release, so no writer waits long behind others cutting in: the busy handler
    it replaces slept up to 100 ms a try and let the unlucky wait for seconds.

    Each waiter sleeps on its own condition and a release wakes only the first in line:
    waking every waiter to let all but one go back to sleep cost each turn's holder the GIL
    as many times as there were waiters (7 with 8 server threads).
    """

    patience = 0.02

    def __init__(self, files: FileTurn | None = None) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiters: deque[_Waiter] = deque()
        self.files = files  # the turn between processes, taken after this process's

    def acquire(self, timeout: float) -> bool:
        """This process's turn, then the file's (core.writer_lock) within `timeout`."""
        deadline = time.monotonic() + timeout
        if not self._acquire_here(deadline):
            return False
        if self.files is not None and not self.files.acquire(deadline - time.monotonic()):
            self._release_here()
            return False
        return True

    def release(self) -> None:
        if self.files is not None:
            self.files.release()
        self._release_here()

    def _acquire_here(self, deadline: float) -> bool:
        with self._lock:
            if not self._held:
                self._held = True
                return True
            me = _Waiter(time.monotonic(), threading.Condition(self._lock))
            self._waiters.append(me)
            while True:
                if me.granted:
                    return True
                if not self._held and self._waiters[0] is me:
                    self._waiters.popleft()
                    self._held = True
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    first = self._waiters[0] is me
                    self._waiters.remove(me)
                    if first and not self._held:
                        self._wake_first()  # the next in line may take the free turn
                    return False
                me.wakeup.wait(remaining)

    def _release_here(self) -> None:
        with self._lock:
            if self._waiters and time.monotonic() - self._waiters[0].since >= self.patience:
                self._waiters[0].granted = True  # still held: now by that waiter
                self._waiters.popleft().wakeup.notify()
            else:
                self._held = False
                self._wake_first()

    def _wake_first(self) -> None:
        if self._waiters:
            self._waiters[0].wakeup.notify()


@attrs.define
class _Waiter:
    since: float
    wakeup: threading.Condition
    granted: bool = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(dbapi_connection: sqlite3.Connection) -> WriterQueue | None:
    """The queue of the connection's database file (None for an in-memory database)."""
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not path:
        return None
    key = os.path.realpath(path)
    with _queues_lock:
        if key not in _queues:
            _queues[key] = WriterQueue(FileTurn(key))
        return _queues[key]


# A forked child (`serve --processes`) makes its own queues and lock files (see writer_lock).
os.register_at_fork(after_in_child=_queues.clear)


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its writer turn back when its transaction ends."""

    writers: WriterQueue | None = None
    _turn = False

    def take_turn(self, timeout: float) -> bool:
        assert self.writers is not None
        if self._turn:
            return True
        self._turn = self.writers.acquire(timeout)
        return self._turn

    def end_turn(self) -> None:
        if self._turn and not self.in_transaction:
            self._turn = False
            assert self.writers is not None
            self.writers.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._turn:
                self._turn = False
                assert self.writers is not None
                self.writers.release()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(read, write) session factories; write sessions take SQLite's write lock up front.

    On PostgreSQL read sessions autocommit: each statement of a READ COMMITTED transaction
    sees its own snapshot anyway, so the BEGIN and ROLLBACK around a read bought nothing and
    cost two of a placement's round trips each time (issue 20). On SQLite a read
    transaction is one snapshot for all its statements, and is kept."""
    reading = engine if is_sqlite(engine) else engine.execution_options(
        isolation_level="AUTOCOMMIT")
    read = sessionmaker(reading, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    event.listen(write, "after_commit", _on_session_commit)
    return read, write
