"""`python -m bench --scale-keep DIR`: the scale database is seeded once and reused.

Seeding 100k orders takes minutes; a read-path change is measured in seconds when the kept
database is reused. The second `prepare` must neither seed again nor lose the orders, and it
brings the schema to the newest revision (`ordermill init`). Both databases: the SQLite file
lives in DIR, the PostgreSQL schema is named after the order count.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ordermill.testing import in_ci

ROOT = Path(__file__).resolve().parent.parent  # bench/ is a folder of the repository

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_kept_scale_database_is_reused_not_seeded_again(
        tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.common import PG_URL, Knobs, postgres_problem
    from bench.sections.scale import prepare, scale_database, seeded_orders

    if db == "postgresql" and (problem := postgres_problem()):
        if in_ci():
            pytest.fail(f"PostgreSQL is required under CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    orders = 61 + len(str(tmp_path)) % 7  # a schema name of its own per run
    knobs = Knobs(scale_keep=tmp_path / "keep")
    try:
        with scale_database(db, knobs, orders) as (url, work):
            assert seeded_orders(url) == 0
            assert prepare(url, work, orders, ("scale",)) == orders
        with scale_database(db, knobs, orders) as (url, work):
            engine = create_engine(url)
            with engine.begin() as connection:  # a marker the next prepare must keep
                connection.execute(text("UPDATE shop_order SET buyer_name = 'kept' "
                                        "WHERE id = (SELECT min(id) FROM shop_order)"))
            assert prepare(url, work, orders, ("scale",)) == orders  # reused: no new orders
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT count(*) FROM shop_order")) == orders
                assert connection.scalar(text(
                    "SELECT count(*) FROM shop_order WHERE buyer_name = 'kept'")) == 1
                assert connection.scalar(text(
                    "SELECT count(*) FROM shop_order WHERE payment_status = ''")) == 0
            engine.dispose()
        if db == "sqlite":
            assert (tmp_path / "keep" / f"sqlite-{orders}" / "scale.sqlite").exists()
    finally:
        if db == "postgresql":
            admin = create_engine(PG_URL)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "om_bench_keep_{orders}" '
                                        "CASCADE"))
            admin.dispose()
