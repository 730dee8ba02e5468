"""Data a test module builds once and every later test of the module gets back cheaply.

A list, report or export test usually needs a small shop history (a dozen orders, each in
another state) and only reads it. Placing those orders again for each test was most of such a
module's time (tests/web/test_api_lists.py: 18 of its 22 seconds). `data_snapshot(name, build)`
runs `build()` the first time a test of the module asks for `name` on a database, keeps the
rows of every table `build` wrote to (and what it returned), and gives every later test of the
module those tables as `build` left them instead of building again: the rows are written back
inside the test's transaction (PostgreSQL: rolled back at its end as usual, the id sequences
moved past the restored ids; SQLite: the test's own file).

A table `build` wrote to is replaced whole; the others keep what the test made before (the API
tokens of `api`, say). So `build` must make everything the tests read in the tables it writes,
including what another fixture would have put there (a `shop` of products): a restored test
sees the same rows, ids and order numbers as the first. What `build` returns must be plain
data (numbers, strings, dicts of them). Work `build` does outside the database (files, e-mails,
calls to fakes) is not repeated: such a fixture is not a candidate. Tests marked `commits`
build every time.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, Integer, event, func, select, text

from ordermill.core.app import Ordermill
from ordermill.core.models import Base
from ordermill.testing_db import PostgresSchema, metadata_key

T = TypeVar("T")
Rows = dict[str, list[dict[str, Any]]]
WRITE = re.compile(r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)',
                   re.IGNORECASE)


#: one process's snapshots: {(module, name, backend, *model tables): (rows, build's value)}
SnapshotStore = dict[tuple[str, ...], tuple[Rows, Any]]


def _counts(connection: Connection) -> list[int]:
    tables = Base.metadata.sorted_tables
    row = connection.execute(select(*(select(func.count()).select_from(table).scalar_subquery()
                                      for table in tables))).one()
    return list(row)


@contextlib.contextmanager
def tables_written(connection: Callable[[], contextlib.AbstractContextManager[Connection]],
                   ) -> Iterator[set[str]]:
    """The names of the model tables written inside the block: named by an INSERT, UPDATE or
    DELETE, or with another row count after (a trigger's rows)."""
    written: set[str] = set()

    def seen(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        match = WRITE.match(statement)
        if match:
            written.add(match.group(1))

    with connection() as conn:
        before = _counts(conn)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield written
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    with connection() as conn:
        after = _counts(conn)
    tables = Base.metadata.sorted_tables
    written.update(table.name for table, old, new in zip(tables, before, after, strict=True)
                   if old != new)
    written.intersection_update(table.name for table in tables)


def save_rows(connection: Connection, names: set[str]) -> Rows:
    return {table.name: [dict(row) for row in connection.execute(select(table)).mappings()]
            for table in Base.metadata.sorted_tables if table.name in names}


def restore_rows(connection: Connection, rows: Rows) -> None:
    """Replace the content of the tables in `rows`; on PostgreSQL the ids' sequences follow."""
    tables = [table for table in Base.metadata.sorted_tables if table.name in rows]
    for table in reversed(tables):
        connection.execute(table.delete())
    moves: list[str] = []
    for table in tables:
        if not rows[table.name]:
            continue
        connection.execute(table.insert(), rows[table.name])
        if connection.dialect.name != "postgresql":
            continue
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                moves.append(f"setval(pg_get_serial_sequence('\"{table.name}\"', "
                             f"'{column.name}'), (SELECT max(\"{column.name}\") "
                             f"FROM \"{table.name}\"))")
    if moves:
        connection.execute(text("SELECT " + ", ".join(moves)))


@pytest.fixture(scope="session")
def ordermill_snapshots() -> SnapshotStore:
    return {}


@pytest.fixture
def data_snapshot(
    request: pytest.FixtureRequest, mill: Ordermill, ordermill_backend: str,
    ordermill_snapshots: SnapshotStore, ordermill_postgres: PostgresSchema | None,
) -> Callable[[str, Callable[[], T]], T]:
    """data_snapshot(name, build): build's data once per module and database, then a copy."""

    @contextlib.contextmanager
    def connection() -> Iterator[Connection]:
        """The test's own connection: PostgreSQL's pinned one, a transaction on SQLite's."""
        if ordermill_backend == "sqlite":
            with mill.engine.begin() as conn:
                yield conn
        else:
            assert ordermill_postgres is not None and ordermill_postgres.pinned_connection
            yield ordermill_postgres.pinned_connection

    def snapshot(name: str, build: Callable[[], T]) -> T:
        if ordermill_backend != "sqlite" and (
                ordermill_postgres is None or ordermill_postgres.pinned_connection is None):
            return build()  # a `commits` test: no transaction to restore into
        key = (request.node.module.__name__, name, ordermill_backend, *metadata_key())
        if key in ordermill_snapshots:
            rows, value = ordermill_snapshots[key]
            with connection() as conn:
                restore_rows(conn, rows)
            mill.refresh()
            return copy.deepcopy(value)  # type: ignore[no-any-return]
        with tables_written(connection) as written:
            value = build()
        with connection() as conn:
            ordermill_snapshots[key] = (save_rows(conn, written), copy.deepcopy(value))
        return value

    return snapshot
