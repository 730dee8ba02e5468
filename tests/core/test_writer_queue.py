"""Issue 20: SQLite writers of one process queue first-come, first-served for the file.

Before, 8 concurrent writers slept in SQLite's busy handler (p99 1.4 s over HTTP). Now a
write transaction takes its turn in the process's WriterQueue before BEGIN IMMEDIATE and
hands it on at COMMIT or ROLLBACK. Another process still waits through the busy timeout,
and a writer that cannot get its turn in time fails as "database is locked" (503), as before.
These are SQLite-only by nature: PostgreSQL has row locks and no file lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from ordermill.core.db import QueuedConnection, WriterQueue, make_engine, session_factories
from ordermill.core.retry import classify


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite'}", busy_timeout=5.0)
    with made.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, who TEXT)")
    yield made
    made.dispose()


def queue_of(engine: Engine) -> WriterQueue:
    with engine.connect() as connection:
        dbapi = connection.connection.dbapi_connection
        assert isinstance(dbapi, QueuedConnection)
        assert dbapi.writers is not None
        return dbapi.writers


def held(queue: WriterQueue) -> bool:
    return queue._held


def test_turns_go_in_order_of_arrival() -> None:
    queue = WriterQueue()
    assert queue.acquire(1)
    got: list[int] = []
    threads = []
    for index in range(5):
        thread = threading.Thread(target=lambda i=index: (queue.acquire(5), got.append(i),
                                                          queue.release()))
        thread.start()
        threads.append(thread)
        while len(queue._waiters) < index + 1:  # this one is in line before the next starts
            time.sleep(0.001)
    queue.release()
    for thread in threads:
        thread.join(5)
    assert got == [0, 1, 2, 3, 4]
    assert not held(queue)


def test_a_release_wakes_only_the_first_in_line() -> None:
    """One wake-up per hand-over: the others sleep on (waking them all, for all but one to
    sleep again, took the GIL from the turn's holder once per waiter)."""
    queue = WriterQueue()
    assert queue.acquire(1)
    woken: list[int] = []
    threads = []
    for index in range(3):
        thread = threading.Thread(target=lambda: (queue.acquire(5), queue.release()))
        thread.start()
        threads.append(thread)
        while len(queue._waiters) < index + 1:
            time.sleep(0.001)
    for index, waiter in enumerate(list(queue._waiters)):
        plain = waiter.wakeup.notify
        waiter.wakeup.notify = lambda n=1, i=index, plain=plain: (woken.append(i), plain(n))
    queue.release()
    for thread in threads:
        thread.join(5)
    assert woken == [0, 1, 2]
    assert not held(queue)


def test_a_wait_that_times_out_leaves_the_line() -> None:
    queue = WriterQueue()
    assert queue.acquire(1)
    assert not queue.acquire(0.05)
    assert not queue._waiters
    queue.release()
    assert not held(queue)
    assert queue.acquire(0.01)


def test_concurrent_writers_all_commit_and_the_turn_is_given_back(engine: Engine) -> None:
    _read, write = session_factories(engine)
    errors: list[BaseException] = []

    def writer(who: int) -> None:
        try:
            for _ in range(25):
                with write() as session, session.begin():
                    session.execute(text("INSERT INTO item (who) VALUES (:w)"), {"w": str(who)})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM item")) == 200
    assert not held(queue_of(engine))


def test_rollback_and_a_failed_transaction_give_the_turn_back(engine: Engine) -> None:
    _read, write = session_factories(engine)
    queue = queue_of(engine)
    with write() as session, session.begin():
        session.execute(text("INSERT INTO item (who) VALUES ('a')"))
        assert held(queue)
        session.rollback()
    assert not held(queue)
    with pytest.raises(OperationalError), write() as session, session.begin():
        session.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert not held(queue)
    session = write()
    session.begin()
    session.execute(text("INSERT INTO item (who) VALUES ('b')"))
    session.close()  # closed with the transaction open: rolled back
    assert not held(queue)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM item")) == 0


def test_reads_do_not_queue(engine: Engine) -> None:
    read, write = session_factories(engine)
    with write() as session, session.begin():
        session.execute(text("INSERT INTO item (who) VALUES ('w')"))
        with read() as other:  # a reader while a writer holds the turn
            assert other.scalar(text("SELECT count(*) FROM item")) == 0


def test_a_writer_that_cannot_get_its_turn_in_time_is_busy(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.sqlite'}", busy_timeout=0.2)
    _read, write = session_factories(engine)
    failures: list[BaseException] = []
    with write() as session, session.begin():
        session.execute(text("CREATE TABLE t (x INTEGER)"))

        def second() -> None:
            try:
                with write() as other, other.begin():
                    other.execute(text("INSERT INTO t VALUES (2)"))
            except OperationalError as error:
                failures.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(5)
    assert len(failures) == 1
    assert classify(failures[0]) == "busy"
    assert not held(queue_of(engine))
    with write() as session, session.begin():  # the turn is free again
        session.execute(text("INSERT INTO t VALUES (3)"))
    engine.dispose()


def test_another_process_still_waits_through_the_busy_timeout(engine: Engine,
                                                              tmp_path: Path) -> None:
    """A plain connection stands for another process: it takes the file lock, and this
    process's writer waits for it (busy handler) instead of failing."""
    _read, write = session_factories(engine)
    other = sqlite3.connect(str(tmp_path / "queue.sqlite"), isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item (who) VALUES ('other')")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    started = time.monotonic()
    with write() as session, session.begin():
        session.execute(text("INSERT INTO item (who) VALUES ('me')"))
    assert time.monotonic() - started >= 0.2
    other.close()
    assert not held(queue_of(engine))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM item")) == 2


def test_another_process_holding_the_lock_too_long_is_busy_and_frees_the_turn(
        tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    engine = make_engine(f"sqlite:///{path}", busy_timeout=0.2)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    _read, write = session_factories(engine)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError) as caught, write() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert classify(caught.value) == "busy"
    assert not held(queue_of(engine))
    other.execute("ROLLBACK")
    other.close()
    with write() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (2)"))
    engine.dispose()


def test_a_writer_that_waited_past_its_patience_is_handed_the_turn() -> None:
    """Nobody can cut in front of a writer that has waited `patience`: the release hands the
    turn straight to it (a free turn is otherwise taken by whoever asks first)."""
    queue = WriterQueue()
    queue.patience = 0.0
    assert queue.acquire(1)
    got = threading.Event()
    waiter = threading.Thread(target=lambda: queue.acquire(5) and got.set())
    waiter.start()
    while not queue._waiters:
        time.sleep(0.001)
    queue.release()
    assert held(queue)
    assert not queue.acquire(0.0)  # handed over, not free for the taking
    waiter.join(5)
    assert got.is_set()
    queue.release()
    assert not held(queue)
