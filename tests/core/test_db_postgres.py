"""PostgreSQL round trips: pings only after rest, reads without BEGIN and ROLLBACK (issue 20).

Read sessions autocommit: each statement of a READ COMMITTED transaction has its own
snapshot anyway, so BEGIN and ROLLBACK around a read cost two round trips for nothing.
Write sessions keep their transaction.

Connections are pinged when taken from the pool after resting, not every time.

A ping on every checkout cost a placement over HTTP 3 of its 25 round trips (issue 20). A
connection back in the pool for less than PING_AFTER_IDLE was just used and is taken as it
is; one that rested longer is pinged, and one the server dropped meanwhile is replaced
without the caller seeing an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from ordermill.core import db
from ordermill.core.db import make_engine, session_factories
from ordermill.testing import own_postgres_schema, postgres_base_url


@pytest.fixture
def engine() -> Iterator[Engine]:
    with own_postgres_schema() as schema:
        made = make_engine(schema.url, pool_size=1, max_overflow=0)
        try:
            yield made
        finally:
            made.dispose()


def counting_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def ping(dbapi: Any) -> bool:
        pings.append(1)
        return bool(real(dbapi))

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def test_a_connection_just_used_is_not_pinged(engine: Engine,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    backend_pid(engine)  # the pool's one connection now exists
    pings = counting_pings(engine, monkeypatch)
    pids = {backend_pid(engine) for _ in range(5)}
    assert pings == []
    assert len(pids) == 1  # the same connection each time


def test_a_rested_connection_is_pinged_and_replaced_when_the_server_dropped_it(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = backend_pid(engine)
    admin = make_engine(postgres_base_url(), poolclass=NullPool)
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        connection.commit()
    admin.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # as if it had rested a while
    pings = counting_pings(engine, monkeypatch)
    second = backend_pid(engine)  # no error: the dead connection was replaced
    assert second != first
    assert pings  # the dead one was found by a ping (and, at 0 s, the new one pinged too)


def test_read_sessions_autocommit_and_write_sessions_keep_their_transaction(
        engine: Engine) -> None:
    """now() is the transaction's start: two statements of one transaction see the same."""
    read, write = session_factories(engine)
    clock = text("SELECT now(), pg_sleep(0.01)")
    with read() as session:
        assert session.execute(clock).one()[0] != session.execute(clock).one()[0]
    with write() as session, session.begin():
        assert session.execute(clock).one()[0] == session.execute(clock).one()[0]
