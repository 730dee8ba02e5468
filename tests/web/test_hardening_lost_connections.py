"""Lost PostgreSQL connections during order actions, through HTTP (issue 10, item 23).

The server's own connection is cut for real with pg_terminate_backend at chosen moments:
before COMMIT (the action runs again on a fresh connection), after the server committed but
before the client heard so (the committed result is answered, nothing is placed twice), on
every attempt (503 with Retry-After that truthfully says nothing was changed) and after a
gateway refund was requested (never run again; the answer says the outcome must be checked).
A database that cannot be reached answers 503 with Retry-After. The load test with
connections killed under 4 concurrent clients is in test_hardening_lost_connections_load.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.pool import NullPool

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.db import WRITE_OPTION, make_engine
from ordermill.core.models import Order, OrderEvent, Payment, Product
from ordermill.core.settings import Settings
from ordermill.core.specs import GatewayRefund, PaymentGatewaySpec
from ordermill.testing import TEST_SECRET_KEY, postgres_base_url
from ordermill.web import create_app

# pg_terminate_backend kills real server connections: no shared rolled-back transaction
pytestmark = [pytest.mark.commits, pytest.mark.slow]  # kills real PostgreSQL backends


@pytest.fixture(params=["postgresql"])
def ordermill_backend(request: pytest.FixtureRequest) -> str:
    """Connections are only ever lost on PostgreSQL: these tests run there alone."""
    return str(request.param)


@pytest.fixture
def terminate() -> Iterator[Callable[[int], None]]:
    """terminate(pid): pg_terminate_backend from a separate connection, waiting until the
    backend is gone."""
    admin = make_engine(postgres_base_url(), poolclass=NullPool)

    def kill(pid: int) -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            connection.commit()

    yield kill
    admin.dispose()


def backend_pid(connection: Any) -> int:
    """The server process behind a SQLAlchemy Connection (psycopg 3)."""
    return int(connection.connection.dbapi_connection.info.backend_pid)


class CutConnection:
    """A validate_order hook that kills its own transaction's connection (the first `times`
    calls), so the next statement of the placement finds the connection gone."""

    def __init__(self, kill: Callable[[int], None], times: int) -> None:
        self.kill = kill
        self.left = times
        self.calls = 0

    @hookimpl
    def validate_order(self, order: Any, ctx: Any) -> None:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            self.kill(backend_pid(ctx.session.connection()))


def orders_of(mill: Ordermill, email: str) -> list[str]:
    with mill.read_session() as session:
        return list(session.scalars(select(Order.number).where(Order.buyer_email == email)))


def stock_of(mill: Ordermill, sku: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def test_a_connection_lost_before_commit_is_retried_once_and_the_order_placed_once(
    mill: Ordermill, api: Any, make_product: Callable[..., Any], place_body: Callable[..., Any],
    register_plugin: Callable[..., Any], terminate: Callable[[int], None],
) -> None:
    make_product("MUG", price=1250, stock=5)
    cut = register_plugin(CutConnection(terminate, times=1), name="cut-once")

    answer = api.post("orders", json=place_body(("MUG", 2), customer={
        "email": "retry@example.com", "name": "Rita Retry"}))

    assert answer.status_code == 201, answer.get_json()
    assert cut.calls == 2  # the first run lost its connection; the second placed the order
    assert orders_of(mill, "retry@example.com") == [answer.get_json()["order"]["number"]]
    assert stock_of(mill, "MUG") == 3


def test_a_connection_lost_on_every_attempt_is_503_and_truly_changes_nothing(
    mill: Ordermill, api: Any, make_product: Callable[..., Any], place_body: Callable[..., Any],
    register_plugin: Callable[..., Any], terminate: Callable[[int], None],
    error_of: Callable[..., dict[str, Any]],
) -> None:
    make_product("MUG", price=1250, stock=5)
    cut = register_plugin(CutConnection(terminate, times=99), name="cut-always")

    answer = api.post("orders", json=place_body(("MUG", 1), customer={
        "email": "never@example.com", "name": "Nat Never"}))

    error = error_of(answer, 503, "database_connection_lost")
    assert answer.headers["Retry-After"].isdigit()
    assert "nothing was changed" in error["message"]
    assert cut.calls == 2  # tried once more, not forever
    assert orders_of(mill, "never@example.com") == []
    assert stock_of(mill, "MUG") == 5


@pytest.fixture
def commit_then_cut(mill: Ordermill, terminate: Callable[[int], None]
                    ) -> Iterator[Callable[[], None]]:
    """arm(): the next write transaction is committed on the server, then its connection is
    killed before the client's COMMIT gets an answer (as when the server goes away right
    after committing)."""
    armed: list[bool] = []
    engine: Engine = mill.engine

    def on_commit(connection: Any) -> None:
        if not armed or not connection.get_execution_options().get(WRITE_OPTION):
            return
        armed.clear()
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("COMMIT")  # the server has it now ...
            cursor.execute("BEGIN")  # ... and the driver's own COMMIT will find no server
        terminate(int(raw.info.backend_pid))

    event.listen(engine, "commit", on_commit)
    yield lambda: armed.append(True)
    event.remove(engine, "commit", on_commit)


def test_a_commit_whose_answer_was_lost_answers_the_committed_order_and_places_no_second(
    mill: Ordermill, api: Any, make_product: Callable[..., Any], place_body: Callable[..., Any],
    commit_then_cut: Callable[[], None],
) -> None:
    make_product("MUG", price=1250, stock=5)
    commit_then_cut()

    answer = api.post("orders", json=place_body(("MUG", 1), customer={
        "email": "lost@example.com", "name": "Lou Lost"}))

    assert answer.status_code == 201, answer.get_json()
    number = answer.get_json()["order"]["number"]
    assert orders_of(mill, "lost@example.com") == [number]
    assert answer.get_json()["event"]["type"] == "placed"
    with mill.read_session() as session:
        placed = session.scalar(select(func.count()).select_from(OrderEvent)
                                .where(OrderEvent.order_number == number))
    assert placed == 1
    assert stock_of(mill, "MUG") == 4


def test_an_action_whose_commit_answer_was_lost_answers_its_committed_result(
    mill: Ordermill, api: Any, order_factory: Callable[..., Any],
    commit_then_cut: Callable[[], None], make_product: Callable[..., Any],
) -> None:
    make_product("TSHIRT", price=1500, stock=5)
    order = order_factory(lines=[("TSHIRT", 1)])
    commit_then_cut()

    answer = api.post(f"orders/{order.number}/comments",
                      json={"text": "Packed with care.", "notify_customer": False})

    assert answer.status_code in (200, 201), answer.get_json()
    with mill.read_session() as session:
        comments = session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_number == order.number, OrderEvent.type == "comment"))
    assert comments == 1


class CuttingGateway:
    """A card gateway whose refund 'API' succeeds, after which the database connection of
    the refund transaction is lost."""

    def __init__(self, kill: Callable[[int], None]) -> None:
        self.kill = kill
        self.calls: list[int] = []

    def _refund(self, charge: Payment, amount: int, idempotency_key: str,
                ctx: Any) -> GatewayRefund:
        self.calls.append(amount)
        self.kill(backend_pid(ctx.session.connection()))
        return GatewayRefund(reference=f"re_{len(self.calls)}")

    @hookimpl
    def register_payment_gateways(self, settings: Any) -> Iterable[PaymentGatewaySpec]:
        return [PaymentGatewaySpec("cutcard", "Cut card", online=True, can_capture=True,
                                   can_refund=True, can_partial_refund=True,
                                   refund=self._refund)]


def test_a_connection_lost_after_a_gateway_refund_is_not_retried_and_says_to_check(
    mill: Ordermill, api: Any, order_factory: Callable[..., Any], staff: Any,
    register_plugin: Callable[..., Any], terminate: Callable[[int], None],
    error_of: Callable[..., dict[str, Any]], make_product: Callable[..., Any],
) -> None:
    make_product("TSHIRT", price=1500, stock=5)
    card = register_plugin(CuttingGateway(terminate), name="cutting-gateway")
    order = order_factory(lines=[("TSHIRT", 1)], payment_method="cutcard")
    mill.orders.record_payment(order.number, actor=staff, amount=order.total,
                               gateway="cutcard", reference="ch_1", manual=False)

    answer = api.post(f"orders/{order.number}/refund", json={})

    error = error_of(answer, 503, "outcome_unknown")
    assert card.calls == [order.total]  # the gateway was asked once, never a second time
    assert "cutcard refund" in error["message"]
    assert "nothing was changed" not in error["message"]
    with mill.read_session() as session:
        refunds = session.scalar(select(func.count()).select_from(Payment).where(
            Payment.kind == "refund"))
    assert refunds == 0  # not recorded here: the message tells to check with the gateway


def test_an_unreachable_database_answers_503_with_retry_after(
    tmp_path: Any, error_of: Callable[..., dict[str, Any]],
) -> None:
    settings = Settings.from_env(
        env={}, instance_path=tmp_path, secret_key=TEST_SECRET_KEY,
        database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2")
    app = create_app(Ordermill(settings), {"TESTING": True})
    client = app.test_client()

    answer = client.get("/api/v1/products", headers={"Authorization": "Bearer om_whatever"})

    error = error_of(answer, 503, "database_unavailable")
    assert answer.headers["Retry-After"].isdigit()
    assert "nothing was changed" in error["message"]
    placed = client.post("/api/v1/orders", json={
        "customer": {"email": "a@example.com", "name": "A"},
        "lines": [{"sku": "MUG", "quantity": 1}], "payment_method": "banktransfer"})
    error_of(placed, 503, "database_unavailable")
