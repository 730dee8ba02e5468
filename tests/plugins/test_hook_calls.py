"""One test per hook: a plugin implementing it, the real action through the service, and
proof that the hook got the right arguments and that what it returned took effect.

tests/plugins/test_hooks_tested.py fails when a hook in ordermill.hookspecs has no test here
(or anywhere under tests/) named `test_hook_<hook name>...`.
"""

from __future__ import annotations

import textwrap
import types
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import IllegalTransition, InvalidInput, PluginError
from ordermill.core.models import Order, OrderEvent, OrderLine, OutboxJob, Payment, Product
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import (
    Actor,
    FraudResult,
    GatewayRefund,
    JobHandlerSpec,
    JobRequest,
    OutboxJobView,
    PaymentGatewaySpec,
)
from ordermill.core.statuses import StatusSpec
from ordermill.testing import order_request, ordermill_settings

Register = Callable[..., object]
MakeProduct = Callable[..., Product]
OrderFactory = Callable[..., Order]


def stock_of(mill: Ordermill, sku: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def jobs_of(mill: Ordermill, number: str) -> list[OutboxJob]:
    with mill.read_session() as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.order_number == number)
                                    .order_by(OutboxJob.id)))


# ================================================================== register hooks


def test_hook_register_statuses_adds_a_status_set_status_can_reach(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[Settings] = []

    class ShippingStatuses:
        @hookimpl
        def register_statuses(self, settings: Settings) -> Iterable[StatusSpec]:
            seen.append(settings)
            return [StatusSpec("awaiting_shipment", "Awaiting shipment", "active",
                               transitions={"completed", "cancelled"},
                               reachable_from={"active"})]

    register_plugin(ShippingStatuses(), name="shipping-statuses")
    make_product("TSHIRT", stock=5)
    order = order_factory([("TSHIRT", 1)], accepted=True)
    assert order.status == "active"

    with pytest.raises(IllegalTransition):  # pending orders cannot jump there
        mill.orders.set_status(order_factory([("TSHIRT", 1)]).number, "awaiting_shipment",
                               actor=staff)
    result = mill.orders.set_status(order.number, "awaiting_shipment", actor=staff)

    assert seen and seen[0] is mill.settings
    assert result.event is not None and result.event.status_to == "awaiting_shipment"
    assert mill.orders.get(order.number).status == "awaiting_shipment"
    assert mill.statuses.category("awaiting_shipment") == "active"
    assert mill.statuses.owner("awaiting_shipment") == "shipping-statuses"
    mill.orders.set_status(order.number, "completed", actor=staff)
    assert mill.orders.get(order.number).status == "completed"


def test_hook_register_payment_gateways_refuses_unknown_methods_and_refunds_online(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    refund_calls: list[dict[str, Any]] = []

    def refund(*, charge: Payment, amount: int, idempotency_key: str,
               ctx: ActionContext) -> GatewayRefund:
        refund_calls.append({"charge": charge.gateway_reference, "amount": amount,
                             "key": idempotency_key, "in_transaction": ctx.session is not None})
        return GatewayRefund(reference=f"re_{len(refund_calls)}")

    class AcmePay:
        @hookimpl
        def register_payment_gateways(self, settings: Settings
                                      ) -> Iterable[PaymentGatewaySpec]:
            return [PaymentGatewaySpec("acme", "Acme Pay", online=True, can_capture=True,
                                       can_refund=True, can_partial_refund=True,
                                       refund=refund)]

    register_plugin(AcmePay(), name="acme-pay")
    make_product("TSHIRT", price=1500, stock=5)

    with pytest.raises(InvalidInput) as refused:
        mill.orders.place(order_request([("TSHIRT", 1)], payment_method="cash"), actor=staff)
    assert "cash" in refused.value.message and "acme" in refused.value.message

    order = mill.orders.place(order_request([("TSHIRT", 2)], payment_method="acme"),
                              actor=staff).order
    assert order is not None and mill.gateways["acme"].label == "Acme Pay"
    mill.orders.record_payment(order.number, actor=staff, amount=None, gateway="acme",
                               reference="ch_1", manual=False)
    mill.orders.refund(order.number, actor=staff, amount=1000)

    refunds = [p for p in mill.orders.get(order.number).payments if p.kind == "refund"]
    assert len(refunds) == 1
    assert refund_calls == [{"charge": "ch_1", "amount": 1000,
                             "key": f"ordermill-refund-{refunds[0].id}", "in_transaction": True}]
    assert refunds[0].gateway_reference == "re_1" and refunds[0].manual is False
    assert refunds[0].status == "succeeded"


def test_hook_register_job_handlers_runs_queued_jobs(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    handled: list[tuple[OutboxJobView, Ordermill]] = []

    def welcome(*, job: OutboxJobView, mill: Ordermill) -> None:
        handled.append((job, mill))

    class Welcome:
        @hookimpl
        def register_job_handlers(self, settings: Settings) -> Iterable[JobHandlerSpec]:
            return [JobHandlerSpec("test.welcome", welcome, max_attempts=3)]

        @hookimpl
        def jobs_for_event(self, order: Order, event: OrderEvent) -> list[JobRequest] | None:
            if event.type != "placed":
                return None
            return [JobRequest("test.welcome", {"email": order.buyer_email})]

    register_plugin(Welcome(), name="welcome")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)], email="ann@example.com")

    assert mill.job_handlers["test.welcome"].max_attempts == 3
    assert mill.outbox.run_until_empty() == 1
    [(job, handler_mill)] = handled
    assert handler_mill is mill
    assert job.kind == "test.welcome" and job.order_number == order.number
    assert dict(job.payload) == {"email": "ann@example.com"} and job.attempts == 1
    assert [row.status for row in jobs_of(mill, order.number)] == ["done"]


def test_hook_register_migration_locations_adds_a_plugin_branch(tmp_path: Path) -> None:
    """A plugin's own Alembic branch is upgraded with the core's (own empty SQLite file:
    the shared `mill` database was made by create_all and must keep no alembic_version)."""
    from ordermill.core.schema import current_revisions, heads, upgrade_database

    branch = tmp_path / "wishlist_versions"
    branch.mkdir()
    (core_head,) = heads()
    (branch / "wishlist_0001.py").write_text(textwrap.dedent(f'''\
        """wishlist plugin: saved products"""
        import sqlalchemy as sa
        from alembic import op

        revision = "wishlist_0001"
        down_revision = None
        branch_labels = ("wishlist",)
        depends_on = {core_head!r}


        def upgrade():
            op.create_table("wishlist_item", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("sku", sa.String(64), nullable=False))


        def downgrade():
            op.drop_table("wishlist_item")
    '''))
    seen: list[Settings] = []

    class Wishlist:
        @hookimpl
        def register_migration_locations(self, settings: Settings) -> list[str]:
            seen.append(settings)
            return [str(branch)]

    settings = ordermill_settings(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path)
    app = Ordermill(settings, plugins=PluginHost(settings, load_entry_points=False))
    app.plugins.register(Wishlist(), "wishlist", source="test")
    try:
        upgrade_database(app)
        with app.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert {"wishlist_item", "shop_order"} <= tables
        assert current_revisions(app) == ("wishlist_0001",)
        assert seen and seen[0] is settings
        assert len(heads()) == 1  # the core's own history did not fork
    finally:
        app.dispose()


# ================================================================== in-transaction hooks


def test_hook_order_saved_sees_the_stored_order_and_its_rows_commit_with_it(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Ledger:
        @hookimpl
        def order_saved(self, order: Order, ctx: ActionContext) -> None:
            session = ctx.session
            assert session is not None
            stored = session.execute(select(Order.number, Order.total).where(
                Order.id == order.id)).one()  # the order's row is written in this transaction
            seen.append({"stored": tuple(stored), "lines": [line.id is not None
                                                           for line in order.lines],
                         "invoice": [invoice.id is not None for invoice in order.invoices],
                         "dry_run": ctx.dry_run, "action": ctx.action})
            session.add(OrderEvent(order_id=order.id, order_number=order.number,
                                   type="ledger_entry", actor="plugin:ledger",
                                   message="Ledger entry written.", data={}))
            if order.buyer_email.endswith("@refused.test"):
                raise RuntimeError("ledger is full")

    register_plugin(Ledger(), name="ledger")
    make_product("TSHIRT", price=1200, stock=5)

    placed = mill.orders.place(order_request([("TSHIRT", 2)]), actor=staff).order
    assert placed is not None
    assert seen == [{"stored": (placed.number, 2400), "lines": [True], "invoice": [True],
                     "dry_run": False, "action": "place"}]
    with mill.read_session() as session:  # the plugin's row committed with the order
        types = session.scalars(select(OrderEvent.type).where(
            OrderEvent.order_number == placed.number).order_by(OrderEvent.id)).all()
    assert types == ["ledger_entry", "placed"]

    with pytest.raises(PluginError) as failed:
        mill.orders.place(order_request([("TSHIRT", 1)], email="eve@refused.test"), actor=staff)
    assert "ledger" in failed.value.message and "ledger is full" in failed.value.message
    preview = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff, dry_run=True)
    assert preview.dry_run and seen[-1]["dry_run"] is True
    with mill.read_session() as session:  # neither the refused order nor the dry run's
        assert session.scalar(select(sa.func.count()).select_from(Order)) == 1
        assert session.scalar(select(sa.func.count()).select_from(OrderEvent).where(
            OrderEvent.type == "ledger_entry")) == 1
    assert stock_of(mill, "TSHIRT") == 3


def test_hook_order_updated_gets_the_changed_columns_of_the_stored_order(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Index:
        @hookimpl
        def order_updated(self, order: Order, changed: frozenset[str],
                          ctx: ActionContext) -> None:
            session = ctx.session
            assert session is not None
            stored = session.execute(select(Order.status, Order.version).where(
                Order.id == order.id)).one()  # the new values are written in this transaction
            seen.append({"number": order.number, "changed": changed, "stored": tuple(stored),
                         "action": ctx.action, "dry_run": ctx.dry_run})
            session.add(OrderEvent(order_id=order.id, order_number=order.number,
                                   type="index_entry", actor="plugin:index",
                                   message="Index entry written.", data={}))
            if order.buyer_email.endswith("@refused.test"):
                raise RuntimeError("index is full")

    register_plugin(Index(), name="index")
    make_product("TSHIRT", price=1200, stock=5)
    placed = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    refused = mill.orders.place(order_request([("TSHIRT", 1)], email="eve@refused.test"),
                                actor=staff).order
    assert placed is not None and refused is not None
    assert seen == []  # a placement calls order_saved, not this

    mill.orders.accept(placed.number, actor=staff)  # only the order's row: one UPDATE
    [accepted] = seen
    assert accepted["number"] == placed.number and accepted["action"] == "accept"
    assert {"status", "accepted_at", "updated_at"} <= accepted["changed"]
    assert "lines" not in accepted["changed"]
    assert accepted["stored"] == ("active", 2) and accepted["dry_run"] is False
    mill.orders.cancel(placed.number, actor=staff)  # lines change too: flushed, same hook
    assert seen[-1]["action"] == "cancel" and "status" in seen[-1]["changed"]
    assert seen[-1]["stored"] == ("cancelled", 3)
    with mill.read_session() as session:  # the plugin's rows committed with the actions
        assert session.scalar(select(sa.func.count()).select_from(OrderEvent).where(
            OrderEvent.type == "index_entry")) == 2

    with pytest.raises(PluginError) as failed:
        mill.orders.accept(refused.number, actor=staff)
    assert "index" in failed.value.message and "index is full" in failed.value.message
    stored = mill.orders.get(refused.number)
    assert (stored.status, stored.version) == ("pending", 1)  # nothing of the accept stayed
    other = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert other is not None
    preview = mill.orders.accept(other.number, actor=staff, dry_run=True)
    assert preview.dry_run and seen[-1]["dry_run"] is True
    assert mill.orders.get(other.number).status == "pending"


def test_hook_order_updated_example_of_the_docs_keeps_an_index(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    from test_hooks_documented import section_examples

    make_product("TSHIRT", price=1200, stock=5)
    placed = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert placed is not None
    with mill.write_session() as session, session.begin():  # the plugin's own table
        session.execute(sa.text("CREATE TABLE order_index (order_id INTEGER PRIMARY KEY, "
                                "status VARCHAR(40) NOT NULL)"))
        session.execute(sa.text("INSERT INTO order_index VALUES (:id, 'pending')"),
                        {"id": placed.id})
    example = types.ModuleType("docs_example_order_updated")
    exec(compile(section_examples()["order_updated"][0], "docs/hooks.md", "exec"),
         example.__dict__)
    register_plugin(example, name="order-index")
    mill.orders.add_comment(placed.number, "Called the buyer.", actor=staff)  # no status
    mill.orders.accept(placed.number, actor=staff)
    with mill.read_session() as session:
        assert session.execute(sa.text("SELECT status FROM order_index")).scalar() == "active"


def test_hook_validate_order_can_refuse_a_placement(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class NoBlockedDomains:
        @hookimpl
        def validate_order(self, order: Order, ctx: ActionContext) -> None:
            seen.append({"email": order.buyer_email, "total": order.total,
                         "skus": [line.sku for line in order.lines],
                         "in_transaction": ctx.session is not None, "action": ctx.action})
            if order.buyer_email.endswith("@blocked.test"):
                raise InvalidInput("We cannot ship to blocked.test addresses.")

    register_plugin(NoBlockedDomains(), name="no-blocked")
    make_product("TSHIRT", price=1200, stock=5)

    with pytest.raises(InvalidInput) as refused:
        mill.orders.place(order_request([("TSHIRT", 2)], email="eve@blocked.test"), actor=staff)
    assert "blocked.test" in refused.value.message
    assert "no-blocked" in refused.value.message and refused.value.details["plugin"]
    assert stock_of(mill, "TSHIRT") == 5

    placed = mill.orders.place(order_request([("TSHIRT", 2)], email="bob@ok.test"),
                               actor=staff).order
    assert placed is not None and placed.status == "pending"
    assert seen[-1] == {"email": "bob@ok.test", "total": 2400, "skus": ["TSHIRT"],
                        "in_transaction": True, "action": "place"}
    assert stock_of(mill, "TSHIRT") == 3


def test_hook_fraud_check_scores_decide_pending_or_fraud(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    seen: list[tuple[str, bool]] = []

    class RiskCheck:
        @hookimpl
        def fraud_check(self, order: Order, ctx: ActionContext) -> FraudResult:
            seen.append((order.buyer_email, ctx.session is not None))
            score = Decimal("90") if order.buyer_email.startswith("risky") else Decimal("10")
            return FraudResult(provider="riskcheck", score=score, reasons=("test",))

    register_plugin(RiskCheck(), name="riskcheck")
    make_product("TSHIRT", stock=5)

    safe = mill.orders.place(order_request([("TSHIRT", 1)], email="safe@example.com"),
                             actor=staff).order
    risky = mill.orders.place(order_request([("TSHIRT", 1)], email="risky@example.com"),
                              actor=staff).order
    assert safe is not None and risky is not None

    assert seen == [("safe@example.com", True), ("risky@example.com", True)]
    safe, risky = mill.orders.get(safe.number), mill.orders.get(risky.number)
    assert safe.status == "pending" and safe.fraud_score == Decimal("10")
    assert risky.status == "fraud" and risky.fraud_score == Decimal("90")  # skipped pending
    [check] = risky.fraud_checks
    assert (check.provider, check.status, check.reasons) == ("riskcheck", "ok", ["test"])


def test_hook_restock_can_replace_the_builtin_restock(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    released_seats: list[tuple[str, int, bool]] = []

    class SeatingPlan:
        @hookimpl
        def restock(self, line: OrderLine, quantity: int, ctx: ActionContext) -> bool | None:
            if line.kind != "ticket":
                return None  # let the built-in restock return physical goods to stock
            released_seats.append((line.sku, quantity, ctx.session is not None))
            return True

    register_plugin(SeatingPlan(), name="seating-plan")
    make_product("SEAT", kind="ticket", stock=10)
    make_product("MUG", stock=10)
    order = order_factory([("SEAT", 3), ("MUG", 2)])
    assert (stock_of(mill, "SEAT"), stock_of(mill, "MUG")) == (7, 8)

    result = mill.orders.cancel(order.number, actor=staff, restock=True)

    assert released_seats == [("SEAT", 3, True)]
    assert stock_of(mill, "SEAT") == 7  # the plugin took the seats back, not product stock
    assert stock_of(mill, "MUG") == 10  # the built-in restock, registered trylast, did this
    assert result.preview["stock_released"] == {"SEAT": 3, "MUG": 2}
    lines = {line.sku: line for line in mill.orders.get(order.number).lines}
    assert lines["SEAT"].units_released == 3 and lines["MUG"].units_released == 2

    mill.orders.delete(order.number, actor=staff, restock=True)  # nothing left to release
    assert released_seats == [("SEAT", 3, True)]
    assert stock_of(mill, "MUG") == 10


def test_hook_jobs_for_event_writes_jobs_in_the_action_transaction(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Webhooks:
        @hookimpl
        def jobs_for_event(self, order: Order, event: OrderEvent,
                           ctx: ActionContext) -> list[JobRequest]:
            assert ctx.session is not None
            stored = ctx.session.get(OrderEvent, event.id)  # the event is already written
            seen.append({"type": event.type, "stored": stored is event,
                         "number": order.number, "dry_run": ctx.dry_run})
            return [JobRequest("test.webhook", {"event": event.type, "number": order.number},
                               dedupe_key=f"webhook-{event.id}")]

    register_plugin(Webhooks(), name="webhooks")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])

    preview = mill.orders.accept(order.number, actor=staff, dry_run=True).preview
    assert preview["jobs"] == ["test.webhook"]
    assert [job.payload["event"] for job in jobs_of(mill, order.number)] == ["placed"]

    mill.orders.accept(order.number, actor=staff)

    jobs = jobs_of(mill, order.number)
    assert [(job.kind, job.payload["event"], job.status) for job in jobs] == [
        ("test.webhook", "placed", "pending"), ("test.webhook", "accepted", "pending")]
    events = {event.type: event.id for event in mill.orders.history(order.number)}
    assert jobs[1].dedupe_key == f"webhook-{events['accepted']}"
    assert [s["type"] for s in seen] == ["placed", "accepted", "accepted"]
    assert all(s["stored"] and s["number"] == order.number for s in seen)
    assert [s["dry_run"] for s in seen] == [False, True, False]


def test_hook_generate_order_number_is_used_and_checked(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    numbers = iter(["2024000001", "12-34"])

    class Sequential:
        @hookimpl
        def generate_order_number(self, ctx: ActionContext) -> str | None:
            assert ctx.session is not None and ctx.action == "place"
            return next(numbers)

    register_plugin(Sequential(), name="sequential")
    make_product("TSHIRT", stock=5)

    order = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert order is not None and order.number == "2024000001"
    assert mill.orders.get("2024000001").status == "pending"

    with pytest.raises(InvalidInput) as refused:
        mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)
    assert "sequential" in refused.value.message and "10 digits" in refused.value.message
    assert stock_of(mill, "TSHIRT") == 4
