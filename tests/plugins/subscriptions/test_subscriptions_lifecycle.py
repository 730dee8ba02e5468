"""Issue 16, acceptance 1, with a controlled clock: instalments run to Completed with their
invoices on the original order; a failing card is retried exactly twice, one retry_interval
apart, then Failed and its hosting service suspended; a Suspended subscription resumed after
its due date is debited on the next worker pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.core.statuses import payment_status
from ordermill.plugins.provisioning.models import ProvisionedService
from ordermill.plugins.subscriptions import engine
from ordermill.plugins.subscriptions.models import Subscription
from ordermill.testing import order_request
from ordermill.testing_gateways import FakeStripe

DAY = dt.timedelta(days=1)


def subscription_of(mill: Ordermill, number: str) -> Subscription:
    with mill.read_session() as session:
        found = session.scalar(select(Subscription).where(Subscription.order_number == number))
    assert found is not None, f"order {number} has no subscription"
    return found


def place(mill: Ordermill, staff: Actor, sku: str, **extra: Any) -> str:
    placed = mill.orders.place(order_request([(sku, 1)], payment_method="stripe", **extra),
                               actor=staff)
    assert placed.order is not None
    return placed.order.number


def work(mill: Ordermill) -> None:
    mill.outbox.run_until_empty(worker_id="test-worker")


def test_three_instalments_run_to_completed_with_three_invoices_on_the_order(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str]) -> None:
    make_product("COURSE", price=9000, stock=None, kind="service")
    number = place(mill, staff, "COURSE", invoice_plan=[3000, 3000, 3000])
    first = pay_first(number)
    assert stripe_fake.intents[first]["setup_future_usage"] == "off_session"
    engine.create(mill, number, actor=staff)  # staff start the plan: three payments
    sub = subscription_of(mill, number)
    assert (sub.status, sub.total_count, sub.payments_made, sub.remaining) == (
        "active", 3, 1, 2)
    assert sub.saved_method == {"customer": stripe_fake.intents[first]["customer"],
                                "payment_method": stripe_fake.intents[first]["payment_method"]}
    work(mill)  # the first tick: nothing is due yet
    assert stripe_fake.debits() == []
    statuses = []
    for _month in (1, 2):
        clock.move_to(sub.next_due_at)
        work(mill)
        sub = subscription_of(mill, number)
        statuses.append((sub.status, sub.payments_made))
    assert statuses == [("active", 2), ("completed", 3)]
    order = mill.orders.get(number)
    assert [(inv.status, inv.amount) for inv in order.invoices] == [("paid", 3000)] * 3
    assert payment_status(order) == "paid"
    assert len(stripe_fake.debits()) == 2
    assert {call["idempotency_key"] for call in stripe_fake.debits()} == {
        f"ordermill-invoice-{order.invoices[1].id}-debit-1",
        f"ordermill-invoice-{order.invoices[2].id}-debit-1"}
    clock.move_to(order.invoices[2].paid_at + dt.timedelta(days=90))
    work(mill)
    assert len(stripe_fake.debits()) == 2  # completed: nothing more is billed


def test_failing_card_is_retried_twice_a_day_apart_then_failed_and_service_suspended(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str], hosting: Any) -> None:
    make_product("HOST", price=1500, stock=None, kind="service", billing_cycle="monthly",
                 provisioning_module="hosting", auto_activate="on_payment")
    number = place(mill, staff, "HOST")
    pay_first(number)
    work(mill)  # the service is created
    with mill.read_session() as session:
        service = session.scalar(select(ProvisionedService)
                                 .where(ProvisionedService.order_number == number))
        assert service is not None and service.status == "active"
    sub = subscription_of(mill, number)
    assert (sub.status, sub.total_count, sub.amount) == ("active", None, 1500)
    stripe_fake.declining.add(sub.saved_method["payment_method"])
    due = sub.next_due_at
    assert due is not None
    seen = []
    for moment in (due, due + DAY - dt.timedelta(seconds=1), due + DAY,
                   due + 2 * DAY - dt.timedelta(seconds=1), due + 2 * DAY, due + 5 * DAY):
        clock.move_to(moment)
        work(mill)
        sub = subscription_of(mill, number)
        seen.append((len(stripe_fake.debits()), sub.status, sub.attempts))
    assert seen == [(1, "active", 1), (1, "active", 1), (2, "active", 2), (2, "active", 2),
                    (3, "failed", 3), (3, "failed", 3)]
    keys = [call["idempotency_key"] for call in stripe_fake.debits()]
    assert len(set(keys)) == 3  # each attempt is a new charge, each keyed by the invoice
    with mill.read_session() as session:
        service = session.scalar(select(ProvisionedService)
                                 .where(ProvisionedService.order_number == number))
        assert service is not None and service.status == "suspended"
    assert ("suspend", service.id) in hosting.calls
    order = mill.orders.get(number)
    renewal = [inv for inv in order.invoices if inv.kind == "renewal"]
    assert [(inv.status, inv.amount) for inv in renewal] == [("unpaid", 1500)]
    assert payment_status(order) == "partially_paid"
    types = [event.type for event in mill.orders.history(number)]
    assert types.count("subscription_payment_failed") == 3

    # staff retry now with a working card: paid, Active again, the service unsuspended
    stripe_fake.declining.clear()
    engine.act(mill, sub.id, "retry", actor=staff)
    work(mill)
    sub = subscription_of(mill, number)
    assert (sub.status, sub.payments_made, sub.attempts) == ("active", 2, 0)
    assert ("unsuspend", service.id) in hosting.calls


def test_suspended_subscription_resumed_after_its_due_date_is_debited_on_the_next_pass(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str]) -> None:
    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    number = place(mill, staff, "VPS")
    pay_first(number)
    sub = engine.act(mill, subscription_of(mill, number).id, "suspend", actor=staff)
    assert sub.status == "suspended"
    assert sub.next_due_at is not None
    clock.move_to(sub.next_due_at + dt.timedelta(days=3))
    work(mill)
    assert stripe_fake.debits() == []  # paused: nothing is invoiced or debited
    assert subscription_of(mill, number).current_invoice_id is None
    engine.act(mill, sub.id, "resume", actor=staff)
    work(mill)  # the next worker pass, at the same moment
    sub = subscription_of(mill, number)
    assert len(stripe_fake.debits()) == 1
    assert (sub.status, sub.payments_made) == ("active", 2)
    order = mill.orders.get(number)
    assert [(inv.kind, inv.status) for inv in order.invoices] == [("order", "paid"),
                                                                  ("renewal", "paid")]
    assert payment_status(order) == "paid"


def test_actions_follow_the_status(mill: Ordermill, staff: Actor,
                                   make_product: Callable[..., Any], clock: Any,
                                   stripe_fake: FakeStripe,
                                   pay_first: Callable[[str], str]) -> None:
    from ordermill.core.errors import ActionNotAllowed, PermissionDenied

    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    number = place(mill, staff, "VPS")
    pay_first(number)
    sub = subscription_of(mill, number)
    assert engine.allowed_actions(sub) == ["suspend", "complete"]
    try:
        engine.act(mill, sub.id, "resume", actor=staff)
    except ActionNotAllowed as refused:
        assert "Active" in refused.message
    else:
        raise AssertionError("resume of an Active subscription was allowed")
    viewer = Actor(kind="user", name="v@shop.test", role="viewer")
    try:
        engine.act(mill, sub.id, "suspend", actor=viewer)
    except PermissionDenied:
        pass
    else:
        raise AssertionError("a viewer suspended a subscription")
    done = engine.act(mill, sub.id, "complete", actor=staff)
    assert done.status == "completed" and engine.allowed_actions(done) == []


def test_a_claim_left_by_a_dead_debit_job_is_taken_again(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str]) -> None:
    from ordermill.api import OutboxJobView
    from ordermill.plugins.subscriptions import scheduler

    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    number = place(mill, staff, "VPS")
    pay_first(number)
    sub = subscription_of(mill, number)
    assert sub.next_due_at is not None
    clock.move_to(sub.next_due_at)
    scheduler.run_pass(mill)  # the invoice; its debit job is queued
    sub = subscription_of(mill, number)
    ghost = OutboxJobView(999_999, engine.CHARGE_KIND, {
        "subscription": sub.id, "invoice": sub.current_invoice_id, "attempt": 0}, number, 1)
    assert scheduler.claim(mill, ghost)  # a worker took it and died
    work(mill)
    assert subscription_of(mill, number).status == "processing"
    assert stripe_fake.debits() == []  # the queued job found it claimed: nothing charged
    clock.move_to(sub.next_due_at + scheduler.STALE_CLAIM + dt.timedelta(minutes=10))
    work(mill)
    sub = subscription_of(mill, number)
    assert (sub.status, sub.payments_made, len(stripe_fake.debits())) == ("active", 2, 1)
