"""Issue 20: SQLite writers of different processes take turns by an flock, not the busy handler.

`serve --processes 2` runs two processes writing one file. Each write transaction takes the
flock of `<file>-writer.lock` after its process's own turn (core.writer_lock), so a second
process never meets SQLite's busy handler, whose back-off slept up to 100 ms a try. The tests
make the busy handler fail at once (busy_timeout 0 on the connection): without the flock,
two processes writing together see "database is locked" within a few transactions.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from ordermill.core.db import make_engine, session_factories
from ordermill.core.retry import classify
from ordermill.core.writer_lock import FileTurn

WRITES = 60


def engine_without_busy_handler(path: Path, timeout: float = 10.0) -> Any:
    """An ordermill engine whose SQLite connections give up at once on a held lock."""
    engine = make_engine(f"sqlite:///{path}", busy_timeout=timeout)

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine


def writer(path: str, who: str, start: Any, errors: Any) -> None:
    engine = engine_without_busy_handler(Path(path))
    _read, write = session_factories(engine)
    start.wait(10)
    try:
        for k in range(WRITES):
            with write() as session, session.begin():
                session.execute(text("INSERT INTO item (who) VALUES (:who)"),
                                {"who": f"{who}{k}"})
                time.sleep(0.0005)  # hold the lock a little, as an action does
    except OperationalError as error:
        errors.put(f"{who}: {error.orig}")
    finally:
        engine.dispose()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "two.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, who TEXT)")
    engine.dispose()
    return path


@pytest.mark.slow  # two writer processes
def test_two_processes_writing_together_never_meet_the_busy_handler(database: Path) -> None:
    context = multiprocessing.get_context("fork")
    start, errors = context.Event(), context.Queue()
    processes = [context.Process(target=writer, args=(str(database), who, start, errors))
                 for who in ("a", "b")]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert errors.empty(), errors.get()
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM item")) == 2 * WRITES
    engine.dispose()
    assert Path(f"{database}-writer.lock").exists()


def test_a_writer_waits_for_another_process_then_writes(database: Path) -> None:
    """Another holder of the flock (a second open of the lock file stands for another
    process: an flock belongs to the open file): a writer here waits, it does not fail at
    once although SQLite's busy handler is off, and writes once the lock is given back."""
    other = FileTurn(os.path.realpath(database))
    assert other.acquire(1)
    engine = engine_without_busy_handler(database)
    _read, write = session_factories(engine)
    threading.Timer(0.3, other.release).start()
    started = time.monotonic()
    with write() as session, session.begin():
        session.execute(text("INSERT INTO item (who) VALUES ('me')"))
    assert time.monotonic() - started >= 0.25
    engine.dispose()


def test_a_lock_held_past_the_timeout_is_busy(database: Path) -> None:
    other = FileTurn(os.path.realpath(database))
    assert other.acquire(1)
    engine = engine_without_busy_handler(database, timeout=0.2)
    _read, write = session_factories(engine)
    with pytest.raises(OperationalError) as caught, write() as session, session.begin():
        session.execute(text("INSERT INTO item (who) VALUES ('late')"))
    assert classify(caught.value) == "busy"
    other.release()
    with write() as session, session.begin():  # both turns were given back
        session.execute(text("INSERT INTO item (who) VALUES ('now')"))
    engine.dispose()


def test_a_lock_file_that_cannot_be_opened_leaves_writes_to_sqlite(
        database: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A folder in the lock file's place (as a file another user owns would be): the write
    still happens, SQLite's own lock serializes it, and the log says why."""
    Path(f"{database}-writer.lock").mkdir()
    engine = make_engine(f"sqlite:///{database}")
    _read, write = session_factories(engine)
    with caplog.at_level("WARNING", logger="ordermill.db"):
        for who in ("first", "second"):
            with write() as session, session.begin():
                session.execute(text("INSERT INTO item (who) VALUES (:who)"), {"who": who})
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM item")) == 2
    engine.dispose()
    warnings = [r.getMessage() for r in caplog.records if "busy handler" in r.getMessage()]
    assert len(warnings) == 1  # once, not at every write
    assert f"cannot open {os.path.realpath(database)}-writer.lock" in warnings[0]
