"""Issue 16, acceptance 2: two workers over 200 due invoices debit each exactly once, counted
at the Stripe stand-in; and the plugin's own hook, implemented by provisioning."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.api import enqueue, hookimpl, utcnow
from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob, Payment
from ordermill.core.specs import Actor, JobRequest
from ordermill.plugins.subscriptions import engine, scheduler
from ordermill.plugins.subscriptions.models import Subscription
from ordermill.testing import order_request
from ordermill.testing_gateways import FakeStripe

DUE = 200


@pytest.mark.commits  # two worker threads, each with its own connection
@pytest.mark.slow
def test_two_workers_debit_each_of_200_due_invoices_exactly_once(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        stripe_fake: FakeStripe) -> None:
    make_product("PLAN", price=1200, stock=None, kind="service")
    now = utcnow()
    numbers = []
    for _index in range(DUE):
        placed = mill.orders.place(order_request([("PLAN", 1)], payment_method="stripe"),
                                   actor=staff)
        assert placed.order is not None
        numbers.append(placed.order.number)
        mill.orders.mark_paid(placed.order.number, actor=staff)
    with mill.write_session() as session, session.begin():
        for number in numbers:
            order_id = mill.orders.get(number).id
            session.add(Subscription(
                order_id=order_id, order_number=number, status="active", interval_unit="month",
                interval_count=1, total_count=None, payments_made=1, amount=1200,
                currency="EUR", gateway="stripe", attempts=0, next_due_at=now,
                saved_method={"customer": f"cus_{number}", "payment_method": f"pm_{number}"}))
    assert scheduler.run_pass(mill)["invoiced"] == DUE
    # a second copy of every debit job (as if two schedulers raced): the claim must hold
    with mill.write_session() as session, session.begin():
        subs = list(session.scalars(select(Subscription)))
        for sub in subs:
            enqueue(session, JobRequest(kind=engine.CHARGE_KIND, payload={
                "subscription": sub.id, "invoice": sub.current_invoice_id, "attempt": 0}),
                order_number=sub.order_number)

    def worker(name: str) -> None:
        while mill.outbox.run_once(worker_id=name, limit=1):
            pass

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    debits = stripe_fake.debits()
    assert len(debits) == DUE
    assert len({call["idempotency_key"] for call in debits}) == DUE
    with mill.read_session() as session:
        paid = session.scalar(select(func.count()).select_from(Payment)
                              .where(Payment.gateway == "stripe", Payment.manual.is_(False)))
        made = list(session.scalars(select(Subscription.payments_made)))
        left = session.scalar(select(func.count()).select_from(OutboxJob)
                              .where(OutboxJob.kind == engine.CHARGE_KIND,
                                     OutboxJob.status != "done"))
    assert paid == DUE and made == [2] * DUE and left == 0


def test_hook_on_subscription_status_changed(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        register_plugin: Callable[..., object]) -> None:
    """Another plugin sees each status change after it committed, old and new."""
    seen: list[tuple[str, str, str]] = []

    class Listener:
        @hookimpl(optionalhook=True)
        def on_subscription_status_changed(self, subscription: Any, old: str, new: str,
                                           ctx: Any) -> None:
            seen.append((subscription.order_number, old, new))

    register_plugin(Listener(), "listener")
    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    placed = mill.orders.place(order_request([("VPS", 1)]), actor=staff)
    assert placed.order is not None
    number = placed.order.number
    mill.orders.mark_paid(number, actor=staff)  # the first payment starts it
    with mill.read_session() as session:
        sub_id = session.scalar(select(Subscription.id)
                                .where(Subscription.order_number == number))
    assert sub_id is not None
    engine.act(mill, sub_id, "suspend", actor=staff)
    engine.act(mill, sub_id, "resume", actor=staff)
    assert seen == [(number, "active", "suspended"), (number, "suspended", "active")]
