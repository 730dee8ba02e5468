"""One test per hook: a plugin implementing it, the real action through the service, and
proof that the hook got the right arguments and that what it returned took effect.

tests/plugins/test_hooks_tested.py fails when a hook in ordermill.hookspecs has no test here
(or anywhere under tests/) named `test_hook_<hook name>...`.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import IllegalTransition, InvalidInput, OrderNotFound
from ordermill.core.models import Order, OrderEvent, OrderLine, OutboxJob, Payment, Product
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import LineRequest
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
from ordermill.core.statuses import StatusSpec, payment_status
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


# ================================================================== after-commit hooks


def test_hook_on_order_placed_sees_the_committed_order(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Welcome:
        @hookimpl
        def on_order_placed(self, order: Order, ctx: ActionContext) -> None:
            stored = ctx.mill.orders.get(order.number)  # committed: a new session sees it
            seen.append({"number": order.number, "status": order.status,
                         "stored_status": stored.status, "session": ctx.session,
                         "action": ctx.action, "actor": ctx.actor})

    register_plugin(Welcome(), name="welcome")
    make_product("TSHIRT")
    result = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)

    assert result.order is not None and result.hook_failures == ()
    assert seen == [{"number": result.order.number, "status": "pending",
                     "stored_status": "pending", "session": None, "action": "place",
                     "actor": staff}]


def test_hook_on_fraud_checked_gets_every_result(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, list[FraudResult]]] = []

    class Provider:
        def __init__(self, name: str, score: str) -> None:
            self.name, self.score = name, Decimal(score)

        @hookimpl
        def fraud_check(self, order: Order) -> FraudResult:
            return FraudResult(provider=self.name, score=self.score)

    class Audit:
        @hookimpl
        def on_fraud_checked(self, order: Order, results: Sequence[FraudResult],
                             ctx: ActionContext) -> None:
            seen.append((order.number, list(results)))

    register_plugin(Provider("alpha", "12"), name="alpha")
    register_plugin(Provider("beta", "40"), name="beta")
    register_plugin(Audit(), name="audit")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])

    [(number, results)] = seen
    assert number == order.number
    assert sorted((r.provider, r.score) for r in results) == [
        ("alpha", Decimal("12")), ("beta", Decimal("40"))]
    assert order.fraud_score == Decimal("40") and order.status == "pending"

    mill.orders.rerun_fraud_check(order.number, actor=staff)
    assert len(seen) == 2 and {r.provider for r in seen[1][1]} == {"alpha", "beta"}


def test_hook_on_payment_gets_the_new_charge(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, int, str, str]] = []

    class Tickets:
        @hookimpl
        def on_payment(self, order: Order, payment: Payment) -> None:
            seen.append((payment.kind, payment.amount, payment.gateway, payment_status(order)))

    register_plugin(Tickets(), name="tickets")
    make_product("TSHIRT", price=2000)
    order = order_factory([("TSHIRT", 1)])

    mill.orders.record_payment(order.number, actor=staff, amount=500, reference="part-1")
    mill.orders.mark_paid(order.number, actor=staff)

    assert seen == [("charge", 500, "banktransfer", "partially_paid"),
                    ("charge", 1500, "banktransfer", "paid")]


def test_hook_on_accept_gets_the_accept_options(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Provisioning:
        @hookimpl
        def on_accept(self, order: Order, options: Mapping[str, Any],
                      ctx: ActionContext) -> None:
            seen.append({"status": order.status, "options": dict(options),
                         "accepted": order.accepted_at is not None, "session": ctx.session})

    register_plugin(Provisioning(), name="panel-probe")  # "provisioning" is built in
    make_product("HOSTING", kind="service", stock=None)
    order = order_factory([("HOSTING", 1)])
    options = {"server": "web1", "username": "bea", "password": "s3cret", "autosetup": True,
               "send_email": False}

    mill.orders.accept(order.number, actor=staff, options=options)

    assert seen == [{"status": "active", "options": options, "accepted": True,
                     "session": None}]
    accepted = [e for e in mill.orders.history(order.number) if e.type == "accepted"]
    assert accepted[0].data["options"]["password"] == "set"  # never stored in the history


def test_hook_on_cancel_gets_the_cancelled_lines(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, list[str]]] = []

    class Terminate:
        @hookimpl
        def on_cancel(self, order: Order, lines: Sequence[OrderLine]) -> None:
            seen.append((order.status, [line.sku for line in lines]))

    register_plugin(Terminate(), name="terminate")
    make_product("MUG")
    make_product("CAP")
    order = order_factory([("MUG", 1), ("CAP", 1)])
    mug = next(line for line in order.lines if line.sku == "MUG")

    mill.orders.cancel(order.number, actor=staff, line_ids=[mug.id])
    mill.orders.cancel(order.number, actor=staff)

    assert seen == [("pending", ["MUG"]), ("cancelled", ["CAP"])]


def test_hook_on_refund_gets_refunds_and_lines(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Accounting:
        @hookimpl
        def on_refund(self, order: Order, refunds: Sequence[Payment],
                      lines: Sequence[OrderLine]) -> None:
            seen.append({"refunds": [(p.kind, p.amount, p.manual) for p in refunds],
                         "lines": [line.sku for line in lines],
                         "payment_status": payment_status(order)})

    register_plugin(Accounting(), name="accounting")
    make_product("MUG", price=800)
    make_product("CAP", price=1200)
    order = order_factory([("MUG", 1), ("CAP", 1)], paid=True)
    mug = next(line for line in order.lines if line.sku == "MUG")

    mill.orders.refund(order.number, actor=staff, line_ids=[mug.id])
    mill.orders.refund(order.number, actor=staff, amount=200)

    assert seen == [
        {"refunds": [("refund", 800, True)], "lines": ["MUG"],
         "payment_status": "partially_refunded"},
        {"refunds": [("refund", 200, True)], "lines": [],
         "payment_status": "partially_refunded"},
    ]


def test_hook_on_fraud_fires_for_admins_and_fraud_checks(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, str, str]] = []

    class Suspend:
        @hookimpl
        def on_fraud(self, order: Order, ctx: ActionContext) -> None:
            seen.append((order.number, order.status, ctx.action))

        @hookimpl
        def fraud_check(self, order: Order) -> FraudResult | None:
            if order.buyer_email.startswith("risky"):
                return FraudResult(provider="suspend", score=Decimal("99"))
            return None

    register_plugin(Suspend(), name="suspend")
    make_product("TSHIRT")
    by_admin = order_factory([("TSHIRT", 1)])
    mill.orders.mark_fraud(by_admin.number, actor=staff)
    by_check = order_factory([("TSHIRT", 1)], email="risky@example.com")

    assert seen == [(by_admin.number, "fraud", "mark_fraud"),
                    (by_check.number, "fraud", "place")]


def test_hook_on_pending_fires_when_set_back_to_pending(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, str]] = []

    class Unsuspend:
        @hookimpl
        def on_pending(self, order: Order) -> None:
            seen.append((order.number, order.status))

    register_plugin(Unsuspend(), name="unsuspend")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    mill.orders.mark_fraud(order.number, actor=staff)
    assert seen == []

    mill.orders.set_back_to_pending(order.number, actor=staff)

    assert seen == [(order.number, "pending")]
    assert [i.status for i in mill.orders.get(order.number).invoices] == ["unpaid"]


def test_hook_on_status_changed_fires_for_actions_and_bulk_changes(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, str, str, str]] = []

    class Audit:
        @hookimpl
        def on_status_changed(self, order: Order, old_status: str, new_status: str,
                              ctx: ActionContext) -> None:
            seen.append((order.number, old_status, new_status, ctx.action))

        @hookimpl
        def on_accept(self, order: Order) -> None:
            seen.append((order.number, "on_accept", "", ""))

    register_plugin(Audit(), name="audit")
    make_product("TSHIRT")
    first, second = order_factory([("TSHIRT", 1)]), order_factory([("TSHIRT", 1)])

    mill.orders.accept(first.number, actor=staff)
    result = mill.orders.bulk_set_status([second.number], "active", actor=staff)

    assert result.changed == (second.number,)
    assert seen == [
        (first.number, "on_accept", "", ""),
        (first.number, "pending", "active", "accept"),
        (second.number, "pending", "active", "bulk_set_status"),  # no on_accept for bulk
    ]


def test_hook_on_delete_gets_the_snapshot(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Archive:
        @hookimpl
        def on_delete(self, order_number: str, snapshot: Mapping[str, Any],
                      ctx: ActionContext) -> None:
            seen.append((order_number, dict(snapshot)))

    register_plugin(Archive(), name="archive")
    make_product("TSHIRT", price=1250, stock=5)
    order = order_factory([("TSHIRT", 2)])
    mill.orders.cancel(order.number, actor=staff, restock=False)

    mill.orders.delete(order.number, actor=staff, restock=True)

    [(number, snapshot)] = seen
    assert number == order.number
    assert snapshot["number"] == order.number and snapshot["status"] == "cancelled"
    assert snapshot["total"] == "25.00"
    assert [line["sku"] for line in snapshot["lines"]] == ["TSHIRT"]
    with pytest.raises(OrderNotFound):
        mill.orders.get(order.number)
    assert stock_of(mill, "TSHIRT") == 5
    assert mill.orders.history(order.number)[-1].type == "deleted"


def test_hook_on_order_edited_says_what_changed(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Sync:
        @hookimpl
        def on_order_edited(self, order: Order, changes: Mapping[str, Any]) -> None:
            seen.append(dict(changes))

    register_plugin(Sync(), name="crm-sync")
    make_product("TSHIRT", price=1000)
    make_product("MUG", price=500)
    order = order_factory([("TSHIRT", 1)])
    when = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

    mill.orders.add_lines(order.number, [LineRequest(sku="MUG", quantity=2)], actor=staff)
    mill.orders.edit_buyer(order.number, {"phone": "+44 20 7946 0000"}, actor=staff)
    mill.orders.mark_dispatched(order.number, actor=staff, at=when)
    mill.orders.mark_delivered(order.number, actor=staff, at=when)

    assert [list(change) for change in seen] == [["added_lines"], ["buyer"],
                                                 ["dispatched_at"], ["delivered_at"]]
    [added] = seen[0]["added_lines"]
    assert (added["sku"], added["quantity"], added["total"]) == ("MUG", 2, "10.00")
    assert seen[1]["buyer"] == {"phone": [None, "+44 20 7946 0000"]}
    assert seen[2]["dispatched_at"] == when.isoformat()
    assert mill.orders.get(order.number).total == 2000


def test_hook_on_comment_added_gets_the_event(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory, staff: Actor,
) -> None:
    seen: list[dict[str, Any]] = []

    class Mailer:
        @hookimpl
        def on_comment_added(self, order: Order, event: OrderEvent) -> None:
            seen.append({"id": event.id, "type": event.type, "comment": event.comment,
                         "notify": event.notify_customer,
                         "visible": event.visible_to_customer, "number": order.number})

        @hookimpl
        def jobs_for_event(self, order: Order, event: OrderEvent) -> list[JobRequest]:
            # the mail itself goes through the outbox: "customer notified" needs a queued job
            return [JobRequest("mailer.send", to_customer=True)] if event.notify_customer \
                else []

    register_plugin(Mailer(), name="mailer")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])

    mill.orders.add_comment(order.number, "Your parcel leaves tomorrow.", actor=staff,
                            notify_customer=True)
    mill.orders.add_comment(order.number, "Customer called.", actor=staff)

    stored = [e for e in mill.orders.history(order.number) if e.type == "comment"]
    assert seen == [
        {"id": stored[0].id, "type": "comment", "comment": "Your parcel leaves tomorrow.",
         "notify": True, "visible": True, "number": order.number},
        {"id": stored[1].id, "type": "comment", "comment": "Customer called.",
         "notify": False, "visible": False, "number": order.number},
    ]


def test_hook_message_attachments_adds_files_to_customer_messages(
    mill: Ordermill, register_plugin: Register, make_product: MakeProduct,
    order_factory: OrderFactory,
) -> None:
    from ordermill.core.specs import MessageAttachment
    from ordermill.plugins.notify_email.attachments import attachments_for

    asked: list[str] = []

    class Receipts:
        @hookimpl
        def message_attachments(self, order: Order, message: str,
                                ctx: ActionContext) -> list[MessageAttachment] | None:
            asked.append(message)
            if message != "order_confirmation":
                return None
            return [MessageAttachment(f"note-{order.number}.txt", "text/plain", b"hello")]

    register_plugin(Receipts(), name="receipts")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    files = attachments_for(mill, order, "order_confirmation")
    assert [f.filename for f in files][-1] == f"note-{order.number}.txt"
    assert files[-1].data == b"hello" and files[-1].content_type == "text/plain"
    assert all(not f.filename.startswith("note-")
               for f in attachments_for(mill, order, "order_cancelled"))
    assert asked == ["order_confirmation", "order_cancelled"]
