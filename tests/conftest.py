"""Suite-wide settings shared by every test process (xdist workers included)."""

from __future__ import annotations

import os

import pytest

# rich sizes tables to the terminal; xdist workers have none (80 columns) while a developer's
# shell has one, so CLI output was cut differently with -n. One width everywhere.
os.environ.setdefault("COLUMNS", "160")


# The fast loop (`-m "not slow"`) runs every test on SQLite and, on PostgreSQL, the tests of the
# code that speaks SQL of its own per database: the core (placement's multi-row INSERT, stock
# reservation, row locks, numbering, search), the migrations and the reports' aggregates. The
# PostgreSQL half of every other test (the web, admin, CLI and plugin layers above the core)
# is half the fast loop's time and rarely fails where SQLite passed; it carries `slow` so the
# full run and CI (which run `slow` always) still prove every test on both databases.
POSTGRESQL_IN_THE_FAST_LOOP = (
    "tests/core/",
    "tests/test_migrations.py",
    "tests/plugins/reports/",
    "tests/plugins/sales_managers/test_sales_migration.py",
)


def on_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in callspec.params.values()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if on_postgresql(item) and not item.nodeid.startswith(POSTGRESQL_IN_THE_FAST_LOOP):
            item.add_marker(pytest.mark.slow)
