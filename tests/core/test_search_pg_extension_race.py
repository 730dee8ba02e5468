"""Two processes creating the schema on a fresh PostgreSQL database at once both install
pg_trgm: `CREATE EXTENSION IF NOT EXISTS` alone lets the second fail on pg_extension's unique
name (how a fresh machine's first `-n 2` run lost one worker's whole PostgreSQL half). Runs on
a database of its own, since the shared test database already has the extension."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ordermill.core.db import make_engine
from ordermill.core.search import trgm_schema
from ordermill.testing import _postgres_reachable, in_ci, postgres_base_url


@pytest.fixture
def fresh_database() -> Iterator[str]:
    base = postgres_base_url()
    problem = _postgres_reachable(base)
    if problem:
        if in_ci():
            pytest.fail(f"PostgreSQL not reachable ({problem}); CI=true requires it.")
        pytest.skip(problem)
    name = f"om_trgm_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_two_installers_at_once_both_get_the_extension(fresh_database: str) -> None:
    engines = [make_engine(fresh_database, pool_size=1) for _ in range(2)]
    started = threading.Barrier(2)
    found: list[str] = []
    errors: list[BaseException] = []

    def install(index: int) -> None:
        try:
            with engines[index].begin() as connection:
                connection.execute(text("SELECT 1"))  # both transactions open ...
                started.wait(timeout=10)  # ... before either looks for the extension
                found.append(trgm_schema(connection))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=install, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert found == ["public", "public"]
