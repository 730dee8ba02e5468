"""After-commit hooks, each called once by the real action that fires it (the register and
in-transaction hooks are in test_hook_calls.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from test_hook_calls import stock_of  # helpers shared with the other hooks

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import OrderNotFound
from ordermill.core.models import Order, OrderEvent, OrderLine, Payment, Product
from ordermill.core.requests import LineRequest
from ordermill.core.specs import (
    Actor,
    FraudResult,
    JobRequest,
)
from ordermill.core.statuses import payment_status
from ordermill.testing import order_request

Register = Callable[..., object]
MakeProduct = Callable[..., Product]
OrderFactory = Callable[..., Order]







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
