"""pytest fixtures for ordermill and its plugin authors (registered through `pytest11`).

Every test that uses `mill` runs twice: on a fresh SQLite file and on PostgreSQL. PostgreSQL
comes from ORDERMILL_TEST_DATABASE_URL (default: postgres@127.0.0.1:5432/test); each pytest
process (each xdist worker) gets its own schema so parallel runs never collide. Without a
server the PostgreSQL half is skipped, except under CI=true, where it fails: CI must prove
both databases. How the databases are reset cheaply between tests (a copied SQLite template,
a rolled-back PostgreSQL transaction, the `commits` marker): see ordermill.testing_db.

Fixtures:
  mill              an Ordermill on a throw-away database, built-in plugins loaded
  register_plugin   register_plugin(obj, name=...) for the rest of one test
  make_product      make_product(sku=..., price=..., stock=...) -> Product
  order_factory     order_factory(lines=[("SKU", qty)], payment_method=..., ...) -> Order
  staff             an admin Actor for calling actions
  data_snapshot     data_snapshot(name, build): a module's shop history built once per
                    database, then restored for each test (ordermill.testing_snapshots)
  app, client, tokens, unchanged, app_config, app_blueprints: see ordermill.testing_web
  api_client, api_token, admin_client, admin_login, deliver_webhook, cli: the plugin
                    author's kit, see ordermill.testing_kit and docs/plugins.md

`mill` loads the core's built-in plugins plus only those the `ordermill_plugins` marker
names (isolation: see ordermill.testing_kit). `gateway_conformance` (ordermill.
testing_conformance) is the test class every payment gateway should pass; the Stripe and
PayPal stand-ins are in ordermill.testing_gateways.

Markers: `commits` (the test needs real PostgreSQL commits: threads, another engine, a
subprocess) and `slow` (the tail that `-m "not slow"` leaves out locally).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ordermill import testing_conformance as gateway_conformance
from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.models import Order, Product, PromoCode
from ordermill.core.money import Money
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.testing_db import (
    PostgresSchema,
    SqliteTemplate,
    import_plugin_models,
)
from ordermill.testing_kit import (  # fixtures and hooks, registered by being here
    MARKER,
    admin_client,
    admin_login,
    api_client,
    api_token,
    cli,
    deliver_webhook,
    plugin_choice,
    pytest_addoption,
    remember_installed_plugins,
)
from ordermill.testing_snapshots import (  # fixtures, registered by being in this module
    data_snapshot,
    ordermill_snapshots,
)
from ordermill.testing_web import (  # fixtures, registered by being in this module
    app,
    app_blueprints,
    app_config,
    client,
    tokens,
    unchanged,
)

# The suite starts many Python processes: the xdist workers, `ordermill serve`, the CLI, outbox
# workers. Each one compiles ordermill (and pytest rewrites its asserts) again unless bytecode
# is cached, which a shell exporting PYTHONDONTWRITEBYTECODE=1 forbids: a test run allows it
# for itself and the processes it starts (__pycache__ is ignored by git).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# A test process makes and drops thousands of apps, engines and sessions full of reference
# cycles; with Python's default thresholds the cyclic GC took about a fifth of a web test's
# time. Collecting young objects every 50,000 allocations instead of 700 cut that to a
# twentieth (tests/web/test_api_actions.py: 31 s -> 25 s). Memory stays bounded: the full
# collections still run.
gc.set_threshold(50_000, 20, 100)


def _temporary_files_in_memory(folder: str = "/dev/shm") -> None:
    """Test databases and files in RAM where the machine has a tmpfs and TMPDIR is not set.

    Every SQLite test copies a file, writes and closes it (a WAL checkpoint with an fsync):
    about 5 ms on this VM's disk, 0.1 ms on tmpfs. Nothing a test writes needs to outlive the
    run. TMPDIR is set too, so the xdist workers and the processes tests start agree."""
    if os.environ.get("TMPDIR") or not os.path.isdir(folder) \
            or not os.access(folder, os.W_OK | os.X_OK):
        return
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder


_temporary_files_in_memory()

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Tests sign and encrypt with a fixed key of their own (PostgreSQL has no instance key)
TEST_SECRET_KEY = "ordermill-test-secret-key-not-for-production-use"

MARKERS = (
    "commits: needs real PostgreSQL commits seen by other connections (threads, a second "
    "engine, a subprocess); runs on the plain engine and TRUNCATEs after, instead of inside "
    "a rolled-back transaction",
    "slow: the slow tail (browser, subprocesses, schemathesis, races); "
    "skip locally with -m 'not slow', CI runs them always",
    MARKER,
)


def pytest_configure(config: pytest.Config) -> None:
    from ordermill.core import staff
    from ordermill.testing_web import TEST_PASSWORD_METHOD

    # users the tests create through the product (create_user, a changed password) are hashed
    # like the test users, and logins with no user verify a dummy hash made that way too (a
    # tenth of a second less each); tests/web/test_hardening_login_timing.py uses the
    # production cost
    staff.HASH_METHOD = TEST_PASSWORD_METHOD
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    remember_installed_plugins(config)
    if not config.pluginmanager.hasplugin("xdist"):  # --dist loadgroup needs no marker then
        config.addinivalue_line("markers", "xdist_group(name): tests run by one xdist worker")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported and collected lives until the end: moved out of the collector's
    sight (gc.freeze), so the full collections walk only what the tests made."""
    gc.collect()
    gc.freeze()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def postgres_base_url() -> str:
    return os.environ.get("ORDERMILL_TEST_DATABASE_URL", DEFAULT_PG_URL)


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = make_engine(url, pool_size=1)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


@contextlib.contextmanager
def own_postgres_schema() -> Iterator[PostgresSchema]:
    """A PostgreSQL schema of the test's own (not this process's shared one), dropped after:
    for a test that hands its database to another process or a second engine. Without a
    server the test is skipped, and fails under CI=true."""
    try:
        schema = PostgresSchema(postgres_base_url())
    except Exception as error:  # no server here
        problem = f"PostgreSQL not reachable at {postgres_base_url()}: {error}"
        if in_ci():
            pytest.fail(f"{problem}; CI=true requires the PostgreSQL tests.")
        pytest.skip(problem)
    try:
        yield schema
    finally:
        schema.drop()


@pytest.fixture(scope="session")
def ordermill_postgres() -> Iterator[PostgresSchema | None]:
    """This process's PostgreSQL schema (xdist workers are processes: one each)."""
    base = postgres_base_url()
    problem = _postgres_reachable(base)
    if problem:
        yield None
        return
    schema = PostgresSchema(base)
    yield schema
    schema.drop()


@pytest.fixture(scope="session")
def ordermill_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def ordermill_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ordermill_database(
    request: pytest.FixtureRequest, ordermill_backend: str,
    ordermill_postgres: PostgresSchema | None, ordermill_sqlite_template: SqliteTemplate,
    tmp_path: Path,
) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a fresh, empty database with the schema in place."""
    if ordermill_backend == "sqlite":
        target = tmp_path / "ordermill-test.sqlite"
        url = ordermill_sqlite_template.copy_to(target)
        try:
            yield url, ordermill_sqlite_template.engine_for(target)
        finally:
            ordermill_sqlite_template.release()
        return
    if ordermill_postgres is None:
        message = f"PostgreSQL not reachable at {postgres_base_url()}"
        if in_ci():
            pytest.fail(f"{message}; CI=true requires the PostgreSQL half of the suite.")
        pytest.skip(message)
    if request.node.get_closest_marker("commits"):
        with ordermill_postgres.committing():
            yield ordermill_postgres.url, ordermill_postgres.engine
        return
    with ordermill_postgres.pinned():
        yield ordermill_postgres.url, ordermill_postgres.engine
    if ordermill_postgres.violations:
        pytest.fail(ordermill_postgres.violations[0], pytrace=False)


def ordermill_settings(url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": url, "instance_path": tmp_path,
                              "outbox_backoff_seconds": 0.0, "secret_key": TEST_SECRET_KEY}
    values.update(overrides)
    return Settings.from_env(env={}, **values)


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """Override to change Settings for the `mill` of a test module (e.g. fraud_threshold)."""
    return {}


@pytest.fixture
def mill(
    request: pytest.FixtureRequest, ordermill_database: tuple[str, Engine], tmp_path: Path,
    ordermill_settings_overrides: dict[str, Any],
) -> Iterator[Ordermill]:
    """The app of a test: built-in plugins plus those `ordermill_plugins` names."""
    url, engine = ordermill_database
    blocked, objects = plugin_choice(request)
    overrides = {"block_plugins": blocked, **ordermill_settings_overrides}
    settings = ordermill_settings(url, tmp_path, **overrides)
    host = PluginHost(settings)
    if objects:
        host.register_all(objects, source="test")
    app = Ordermill(settings, plugins=host, engine=engine)
    yield app


@pytest.fixture
def register_plugin(mill: Ordermill) -> Iterator[Callable[..., object]]:
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> object:
        plugin_name = name or f"test-plugin-{len(names)}"
        mill.plugins.register(plugin, plugin_name, source="test")
        names.append(plugin_name)
        mill.refresh()
        return plugin

    yield register
    for name in names:
        mill.plugins.unregister(name)
    mill.refresh()


@pytest.fixture
def staff() -> Actor:
    return Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


@pytest.fixture
def make_product(mill: Ordermill) -> Callable[..., Product]:
    def make(sku: str = "TSHIRT", *, price: int = 1000, currency: str = "EUR",
             stock: int | None = 10, kind: str = "physical", name: str | None = None,
             category: str | None = "general", **extra: Any) -> Product:
        with mill.write_session() as session, session.begin():
            product = Product(sku=sku, name=name or sku.title(), price=price, currency=currency,
                              stock=stock, kind=kind, category=category, **extra)
            session.add(product)
        return product

    return make


@pytest.fixture
def make_promo(mill: Ordermill) -> Callable[..., PromoCode]:
    def make(code: str = "SAVE10", *, kind: str = "percent", value: int = 1000,
             currency: str | None = None) -> PromoCode:
        with mill.write_session() as session, session.begin():
            promo = PromoCode(code=code, kind=kind, value=value, currency=currency)
            session.add(promo)
        return promo

    return make


def order_request(
    lines: list[tuple[str, int]] | list[LineRequest],
    *,
    email: str = "buyer@example.com",
    name: str = "Bea Buyer",
    payment_method: str = "banktransfer",
    **extra: Any,
) -> OrderRequest:
    line_requests = [line if isinstance(line, LineRequest) else LineRequest(sku=line[0],
                     quantity=line[1]) for line in lines]
    return OrderRequest(customer=CustomerDetails(email=email, name=name), lines=line_requests,
                        payment_method=payment_method, **extra)


@pytest.fixture
def order_factory(mill: Ordermill, staff: Actor) -> Callable[..., Order]:
    """Place an order; `paid=True` records the full payment, `accepted=True` accepts it."""

    def make(lines: list[tuple[str, int]] | list[LineRequest] | None = None, *,
             paid: bool = False, accepted: bool = False, **extra: Any) -> Order:
        result = mill.orders.place(order_request(lines or [("TSHIRT", 1)], **extra),
                                   actor=staff)
        assert result.order is not None
        number = result.order.number
        if paid:
            mill.orders.mark_paid(number, actor=staff)
        if accepted:
            mill.orders.accept(number, actor=staff)
        return mill.orders.get(number)

    return make


__all__ = [
    "TEST_SECRET_KEY",
    "Money",
    "PostgresSchema",
    "admin_client",
    "admin_login",
    "api_client",
    "api_token",
    "app",
    "app_blueprints",
    "app_config",
    "cli",
    "client",
    "data_snapshot",
    "deliver_webhook",
    "gateway_conformance",
    "import_plugin_models",
    "in_ci",
    "order_request",
    "ordermill_snapshots",
    "pytest_addoption",
    "tokens",
    "unchanged",
]
