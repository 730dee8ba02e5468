"""The test harness itself (ordermill.testing*): fast resets must still be real databases.

A fresh database per test must be empty whatever the test before it did; a PostgreSQL test
in rollback mode must see its own commits, lose them afterwards, and fail loudly (not pass
silently) when it needs commits another connection can see; the cached entry-point scan must
notice a newly installed plugin; `serving()` must run and stop a real server.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.models import Product
from ordermill.core.plugins import installed_entry_points
from ordermill.testing import in_ci
from ordermill.testing_db import SqliteTemplate
from ordermill.testing_serve import ordermill_command, serving


def product_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Product)) or 0)


@pytest.mark.parametrize("round_", [1, 2])
def test_every_test_starts_on_an_empty_database(
        round_: int, mill: Ordermill, make_product: Callable[..., Product]) -> None:
    """Run twice in one process: the second must not see what the first stored."""
    assert product_count(mill) == 0
    make_product(f"SKU{round_}")
    assert product_count(mill) == 1


def test_sqlite_copies_of_the_template_are_independent(tmp_path: Path) -> None:
    template = SqliteTemplate(tmp_path / "template")
    (tmp_path / "template").mkdir()
    urls = [template.copy_to(tmp_path / name / "db.sqlite") for name in ("a", "b")]
    from ordermill.testing import ordermill_settings

    first, second = (Ordermill(ordermill_settings(url, tmp_path)) for url in urls)
    with first.write_session() as session, session.begin():
        session.add(Product(sku="ONLY-A", name="A", price=100, currency="EUR"))
    assert (product_count(first), product_count(second)) == (1, 0)
    first.dispose()
    second.dispose()


class Saboteur:
    """An in-transaction hook that fails: the action must leave no trace."""

    @hookimpl
    def jobs_for_event(self, order: Any, event: Any, ctx: Any) -> None:
        if event.type == "cancelled":
            raise RuntimeError("sabotage")


def test_an_action_commits_and_a_failed_one_rolls_back(
        mill: Ordermill, make_product: Callable[..., Product], register_plugin: Any,
        order_factory: Callable[..., Any], staff: Any) -> None:
    """On PostgreSQL an action's commit is a savepoint: the test sees it, while a dry run
    and an action that fails halfway leave no trace, as with real transactions."""
    make_product("TSHIRT", stock=3)
    order = order_factory([("TSHIRT", 1)])
    mill.orders.accept(order.number, actor=staff, dry_run=True)
    assert mill.orders.get(order.number).status == "pending"
    mill.orders.accept(order.number, actor=staff)
    assert mill.orders.get(order.number).status == "active"
    register_plugin(Saboteur(), name="saboteur")
    with pytest.raises(PluginError, match="saboteur"):
        mill.orders.cancel(order.number, actor=staff)
    assert mill.orders.get(order.number).status == "active"
    assert [event.type for event in mill.orders.history(order.number)] == ["placed",
                                                                          "accepted"]
    with mill.read_session() as session:
        assert session.scalar(select(Product.stock).where(Product.sku == "TSHIRT")) == 2


INNER_TESTS = '''
import threading

import pytest
from sqlalchemy import func, select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.db import make_engine
from ordermill.core.models import Product


@pytest.fixture(params=["postgresql"])
def ordermill_backend(request):
    return request.param


def count(mill):
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(Product))


def test_second_engine(mill, make_product):
    make_product("A")
    other = Ordermill(mill.settings, plugins=mill.plugins,
                      engine=make_engine(mill.settings.database_url))
    assert count(other) in (0, 1)  # whatever it sees, the test must fail


def test_thread(mill, make_product):
    thread = threading.Thread(target=make_product, args=("B",))
    thread.start()
    thread.join()


@pytest.mark.commits
def test_marked_commits_sees_committed_rows_elsewhere(mill, make_product):
    make_product("C")
    other = Ordermill(mill.settings, plugins=mill.plugins,
                      engine=make_engine(mill.settings.database_url))
    assert count(other) == 1
    other.dispose()


def test_after_commits_tables_are_empty(mill):
    assert count(mill) == 0
'''


@pytest.mark.slow
@pytest.mark.xdist_group("serve")
def test_rollback_mode_fails_a_test_that_needs_real_commits(
        tmp_path: Path, ordermill_postgres: Any) -> None:
    """A second connection or another thread in a rollback-mode test is an error that names
    the `commits` marker; a `commits` test really commits and leaves empty tables."""
    if ordermill_postgres is None:
        if in_ci():
            pytest.fail("PostgreSQL not reachable; CI=true requires the PostgreSQL half.")
        pytest.skip("needs PostgreSQL")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-p", "no:xdist", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env, check=False)
    output = done.stdout + done.stderr
    # the two tests that needed `commits` fail at teardown (test_second_engine also in its
    # body: its second connection was refused); the marked one and the one after it pass
    assert "1 failed, 3 passed" in output and "2 errors" in output, output
    assert "ERROR at teardown of test_second_engine[postgresql]" in output
    assert "ERROR at teardown of test_thread[postgresql]" in output
    assert "a second connection to the test schema was opened" in output
    assert "used from another thread" in output
    assert "mark the test @pytest.mark.commits" in output


def test_the_entry_point_scan_notices_a_new_plugin(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = {entry_point.name for entry_point in installed_entry_points()}
    assert installed_entry_points() is installed_entry_points()  # cached
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    info = site / "om_cache_probe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: om-cache-probe\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[ordermill]\ncache_probe = om_cache_probe\n")
    after = {entry_point.name for entry_point in installed_entry_points()}
    assert after == before | {"cache_probe"}


@pytest.mark.slow
@pytest.mark.xdist_group("serve")
def test_serving_runs_a_real_server_on_a_free_port_and_stops_it(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERMILL_")}
    env.update({"ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"})
    subprocess.run([*ordermill_command(), "init"], env=env, check=True, timeout=120,
                   capture_output=True)
    with serving(env, "--host", "127.0.0.1", "--no-worker", cwd=tmp_path) as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    assert server.process.poll() is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/healthz", timeout=5)


def test_the_collected_suite_is_frozen_out_of_the_cyclic_collector() -> None:
    """What was imported and collected before the first test (ordermill.testing's
    pytest_collection_finish) is frozen, so full collections walk only what tests make."""
    assert gc.get_freeze_count() > 10_000
