"""The confirmation moves from `shop_order.sales_confirmed` to the plugin's table without
losing one (issue 17): the core revision records confirmed orders as `sale_confirmed` events
and drops the column; the plugin's branch (depends_on that revision) fills its table from
them. And back: the downgrade restores the column from the events. Both databases, each
from an empty database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.plugins import PluginHost
from ordermill.core.schema import (
    alembic_config,
    current_revisions,
    downgrade_database,
    plugin_migration_locations,
    upgrade_database,
)
from ordermill.testing import in_ci, ordermill_settings, postgres_base_url

BEFORE = "a15a_tax_class"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_mill(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ordermill]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'move.sqlite'}"
        schema = None
    else:
        base = postgres_base_url()
        admin = make_engine(base, pool_size=1)
        try:
            with admin.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except Exception as error:
            admin.dispose()
            if in_ci():
                pytest.fail(f"PostgreSQL not reachable at {base}: {error}")
            pytest.skip(f"PostgreSQL not reachable at {base}: {error}")
        schema = f"om_sales_{uuid.uuid4().hex[:10]}"
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}options=-csearch_path%3D{schema}"
    settings = ordermill_settings(url, tmp_path)
    mill = Ordermill(settings, plugins=PluginHost(settings))
    try:
        yield mill
    finally:
        mill.dispose()
        if schema is not None:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def _upgrade_core_to(mill: Ordermill, revision: str) -> None:
    config = alembic_config(extra_locations=plugin_migration_locations(mill))
    with mill.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _old_orders(mill: Ordermill) -> None:
    """Two orders of the old schema: one confirmed (manager 1), one not."""
    now = sa.func.current_timestamp()
    with mill.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO staff_user (id, email, name, role, active, created_at, "
            "session_version) VALUES (1, 'anna@shop.test', 'Anna', 'manager', :yes, "
            "CURRENT_TIMESTAMP, 1)"), {"yes": True})
        connection.execute(sa.text(
            "INSERT INTO customer (id, email, name, billing_address, language, created_at) "
            "VALUES (1, 'b@example.com', 'B', '{}', 'en', CURRENT_TIMESTAMP)"))
        shop_order = sa.table("shop_order", *(sa.column(name) for name in (
            "id", "number", "status", "customer_id", "buyer_name", "buyer_email",
            "billing_address", "language", "currency", "subtotal", "discount", "total",
            "payment_method", "sales_manager_id", "sales_confirmed", "placed_at",
            "updated_at", "version")))
        for order_id, confirmed in ((1, True), (2, False)):
            connection.execute(sa.insert(shop_order).values(
                id=order_id, number=f"000000000{order_id}", status="pending", customer_id=1,
                buyer_name="B", buyer_email="b@example.com", billing_address="{}",
                language="en", currency="EUR", subtotal=1000, discount=0, total=1000,
                payment_method="banktransfer", sales_manager_id=1, sales_confirmed=confirmed,
                placed_at=now, updated_at=now, version=1))


def _confirmed_column(mill: Ordermill) -> dict[int, bool]:
    with mill.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, sales_confirmed FROM shop_order"))
        return {order_id: bool(value) for order_id, value in rows}


def test_confirmations_survive_the_move_and_the_way_back(fresh_mill: Ordermill) -> None:
    _upgrade_core_to(fresh_mill, f"ordermill@{BEFORE}")
    _old_orders(fresh_mill)
    assert _confirmed_column(fresh_mill) == {1: True, 2: False}

    upgrade_database(fresh_mill)  # the core drop and the plugin's branch, in their order
    assert "sales_managers_0001" in current_revisions(fresh_mill)
    with fresh_mill.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("shop_order")}
        assert "sales_confirmed" not in columns
        moved = connection.execute(sa.text(
            "SELECT order_id, confirmed_by FROM sales_confirmation")).all()
        assert [tuple(row) for row in moved] == [(1, "system:migration")]
        events = connection.execute(sa.text(
            "SELECT order_number FROM order_event WHERE type = 'sale_confirmed'")).all()
        assert [row[0] for row in events] == ["0000000001"]

    downgrade_database(fresh_mill, "sales_managers@base")
    downgrade_database(fresh_mill, BEFORE)
    assert _confirmed_column(fresh_mill) == {1: True, 2: False}
