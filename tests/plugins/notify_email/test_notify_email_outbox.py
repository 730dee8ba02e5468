"""Mail is never lost and never sent twice: outages, dead letters, retries, two workers."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.models import OrderEvent, OutboxJob
from ordermill.core.notifications import resend_confirmations
from ordermill.core.specs import OutboxJobView
from ordermill.plugins.notify_email import JOB_KIND
from ordermill.plugins.notify_email.handler import deliver
from ordermill.plugins.notify_email.testing import SmtpSink, run_outbox_worker


def jobs_by_status(mill: Any) -> dict[str, int]:
    return dict(mill.outbox.counts())


def email_sent_count(mill: Any) -> int:
    with mill.read_session() as session:
        return int(session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.type == "email_sent")))


def message_ids(smtp: SmtpSink) -> Counter[str]:
    return Counter(str(message["Message-ID"]) for message in smtp.messages)


@pytest.mark.slow  # waits out the back-off
def test_mail_server_down_actions_succeed_jobs_wait_then_each_message_goes_once(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any,
    reconfigure: Any,
) -> None:
    # jobs are claimed one at a time: 2 s leaves room for all four to fail on a busy machine
    # before the first is due again; no jitter, so the wait below is enough for all of them
    reconfigure(outbox_backoff_seconds=2.0, outbox_backoff_jitter=0.0)
    smtp.stop()
    make_product("TSHIRT", price=1000)
    order = order_factory(paid=True)  # placed + paid: 3 messages (customer x2, team)
    mill.orders.add_comment(order.number, "Shipping Monday.", actor=staff, notify_customer=True)
    assert mill.orders.get(order.number).paid_at is not None  # the actions themselves worked

    assert mill.outbox.run_once() == 4
    assert jobs_by_status(mill) == {"pending": 4}
    for job in mill.outbox.jobs():
        assert job["attempts"] == 1
        assert "ConnectionRefusedError" in job["last_error"]
    assert mill.outbox.run_once() == 0  # backing off: nothing is due yet
    assert email_sent_count(mill) == 0

    smtp.start()
    time.sleep(2.1)
    assert mill.outbox.run_until_empty() == 4
    assert jobs_by_status(mill) == {"done": 4}
    ids = message_ids(smtp)
    assert len(ids) == 4 and set(ids.values()) == {1}
    assert mill.outbox.run_until_empty() == 0
    assert len(smtp.messages) == 4
    assert email_sent_count(mill) == 4
    templates = sorted(m["X-Ordermill-Template"] for m in smtp.messages)
    assert templates == ["order_confirmation", "order_updated", "payment_received",
                         "team_new_order"]


def test_a_job_that_keeps_failing_is_dead_lettered_and_can_be_retried(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any,
) -> None:
    reconfigure(notify={"max_attempts": 3, "team_recipients": []})
    smtp.refuse = True  # the server answers 451 to every message
    make_product("TSHIRT", price=1000)
    order = order_factory()
    mill.outbox.run_until_empty()
    [job] = mill.outbox.jobs()
    assert job["status"] == "dead"
    assert job["attempts"] == 3
    assert "451" in job["last_error"]
    history = mill.orders.history(order.number)
    assert [e.type for e in history if e.type == "job_dead"] == ["job_dead"]
    assert not [e for e in history if e.type == "email_sent"]
    assert smtp.messages == []

    smtp.refuse = False
    mill.outbox.retry(job["id"], actor_label="user:admin@shop.test")
    assert mill.outbox.run_until_empty() == 1
    [message] = smtp.messages
    assert message["X-Ordermill-Template"] == "order_confirmation"
    assert jobs_by_status(mill) == {"done": 1}
    types = [e.type for e in mill.orders.history(order.number)]
    assert types.count("job_retried") == 1 and types.count("email_sent") == 1


def test_running_a_job_again_after_it_was_sent_sends_nothing(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any,
) -> None:
    """A worker that dies after sending but before marking the job done loses its lease;
    the next worker runs the job again and must not mail the customer twice."""
    reconfigure(notify={"team_recipients": []})
    make_product("TSHIRT", price=1000)
    order_factory()
    with mill.read_session() as session:
        row = session.scalars(select(OutboxJob)).one()
        view = OutboxJobView(row.id, row.kind, row.payload, row.order_number, 1)
    deliver(job=view, mill=mill)
    deliver(job=view, mill=mill)
    assert len(smtp.messages) == 1
    assert email_sent_count(mill) == 1


def test_a_deleted_order_leaves_nothing_to_send(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any,
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    mill.orders.delete(order.number, actor=staff, restock=True)
    mill.outbox.run_until_empty()
    assert jobs_by_status(mill) == {"done": 2}
    assert smtp.messages == []


@pytest.mark.commits  # worker processes read what the test committed
@pytest.mark.slow
def test_two_workers_deliver_500_messages_once_each(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any,
    reconfigure: Any,
) -> None:
    # PostgreSQL claims with FOR UPDATE SKIP LOCKED; SQLite with BEGIN IMMEDIATE (one writer)
    reconfigure(notify={"team_recipients": []})
    make_product("TSHIRT", price=1000, stock=None)
    numbers = [order_factory(paid=True, email=f"buyer{i}@example.com").number
               for i in range(20)]  # 20 confirmations + 20 payment messages
    for _round in range(23):  # + 460 resent confirmations
        assert len(resend_confirmations(mill, numbers, staff).queued) == 20
    assert jobs_by_status(mill) == {"pending": 500}

    spawn = multiprocessing.get_context("spawn")  # two worker processes, as deployed
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    processes = [spawn.Process(target=run_outbox_worker,
                               args=(mill.settings, f"worker-{i}", barrier, results))
                 for i in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [error for _name, _ran, error in outcomes] == [None, None]
    ran = {name: count for name, count, _error in outcomes}
    assert sum(ran.values()) == 500
    assert all(count > 0 for count in ran.values()), ran  # both took part

    ids = message_ids(smtp)
    assert len(ids) == 500  # no loss
    assert max(ids.values()) == 1  # no duplicate
    assert len(smtp.envelopes) == 500
    assert jobs_by_status(mill) == {"done": 500}
    assert email_sent_count(mill) == 500
    with mill.read_session() as session:
        kinds = set(session.scalars(select(OutboxJob.kind)))
    assert kinds == {JOB_KIND}


def test_a_mistake_in_the_mail_config_delays_mail_but_never_blocks_an_order(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any,
) -> None:
    reconfigure(notify={"security": "tls-please", "team_recipients": [], "max_attempts": 2})
    make_product("TSHIRT", price=1000)
    order = order_factory()
    assert order.status == "pending"
    mill.outbox.run_until_empty()
    [job] = mill.outbox.jobs()
    assert job["status"] == "dead"
    assert "security must be one of none, starttls, ssl" in job["last_error"]
    reconfigure(notify={"security": "none"})
    mill.outbox.retry(job["id"])
    mill.outbox.run_until_empty()
    assert [m["X-Ordermill-Order"] for m in smtp.messages] == [order.number]
