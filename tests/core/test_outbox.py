"""The durable outbox: retries with backoff, dead letters, same-transaction jobs, leases,
and several workers never running a job twice.

Handlers come from plugin objects implementing `register_job_handlers`, as a third-party
plugin would; backoff is 0 under the test settings, so a failed job is due again at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.backoff import DEFAULT_MAX_ATTEMPTS
from ordermill.core.context import ActionContext
from ordermill.core.db import make_engine
from ordermill.core.errors import (
    ActionNotAllowed,
    IllegalTransition,
    NotFound,
    PluginError,
)
from ordermill.core.i18n import current_timezone
from ordermill.core.models import Order, OrderEvent, OutboxJob, Product, utcnow
from ordermill.core.outbox import LEASE_SECONDS, MAX_BACKOFF_SECONDS, enqueue
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor, JobHandlerSpec, JobRequest, OutboxJobView
from ordermill.testing import ordermill_settings

JOIN_SECONDS = 120.0


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """Only the built-in restock plugin: other installed plugins (e-mail, fraud providers)
    would add jobs and outside calls that these tests of the core do not expect."""
    return {"load_plugins": ("restock",)}


class Handlers:
    """A plugin registering job handlers whose behaviour each test sets."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[OutboxJobView] = []
        self.fail_first: dict[str, int] = {}
        self.failing: set[str] = set()
        self.seen_by: dict[int, str] = {}
        self.zones: dict[int, str] = {}

    @hookimpl
    def register_job_handlers(self, settings: Settings) -> Iterable[JobHandlerSpec]:
        return [JobHandlerSpec(kind, self._handler(kind), description=f"test {kind}")
                for kind in ("flaky", "broken", "notify", "count")]

    def _handler(self, kind: str) -> Callable[..., None]:
        def handle(*, job: OutboxJobView, mill: Ordermill) -> None:
            with self.lock:
                self.calls.append(job)
                self.seen_by[job.id] = threading.current_thread().name
                self.zones[job.id] = current_timezone()
                tries = sum(1 for call in self.calls if call.id == job.id)
            if kind in self.failing:
                raise RuntimeError(f"{kind} service is down")
            if tries <= self.fail_first.get(kind, 0):
                raise ConnectionError(f"{kind} attempt {tries} timed out")

        return handle

    def runs_of(self, job_id: int) -> int:
        return sum(1 for call in self.calls if call.id == job_id)


@pytest.fixture
def handlers(register_plugin: Callable[..., object]) -> Handlers:
    plugin = Handlers()
    register_plugin(plugin, name="test-job-handlers")
    return plugin


def add_job(mill: Ordermill, job: JobRequest, order_number: str | None = None) -> int | None:
    with mill.write_session() as session, session.begin():
        row = enqueue(session, job, order_number=order_number,
                      default_max_attempts=mill.settings.outbox_max_attempts)
        session.flush()
        return row.id if row is not None else None


def job_row(mill: Ordermill, job_id: int) -> OutboxJob:
    with mill.read_session() as session:
        row = session.get(OutboxJob, job_id)
        assert row is not None
        return row


def job_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxJob)) or 0)


def events_of(mill: Ordermill, number: str) -> list[OrderEvent]:
    return mill.orders.history(number)


@pytest.mark.parametrize("ordermill_settings_overrides",
                         [{"load_plugins": ("restock",), "timezone": "Asia/Jakarta"}])
def test_a_handler_runs_in_the_shops_time_zone(mill: Ordermill, handlers: Handlers) -> None:
    """A worker thread has no request around it: the runner gives handlers the shop's zone,
    so a date a handler formats for a person is the shop's day."""
    job_id = add_job(mill, JobRequest(kind="count"))
    assert job_id is not None
    assert current_timezone() == "UTC"  # nothing set here, in the test's own thread
    mill.outbox.run_until_empty("w1")
    assert handlers.zones == {job_id: "Asia/Jakarta"}
    assert current_timezone() == "UTC"  # and nothing left set after it


# ---------------------------------------------------------------------------- retries


def test_handler_failing_twice_runs_three_times_then_is_done(
    mill: Ordermill, handlers: Handlers
) -> None:
    handlers.fail_first["flaky"] = 2
    job_id = add_job(mill, JobRequest("flaky", {"to": "ann@example.com"}))
    assert job_id is not None

    assert mill.outbox.run_once("w1") == 1
    row = job_row(mill, job_id)
    assert (row.status, row.attempts, row.locked_by) == ("pending", 1, None)
    assert row.last_error == "ConnectionError: flaky attempt 1 timed out"

    assert mill.outbox.run_until_empty("w1") == 2
    assert handlers.runs_of(job_id) == 3
    row = job_row(mill, job_id)
    assert (row.status, row.attempts, row.last_error) == ("done", 3, None)
    assert row.finished_at is not None
    assert [call.attempts for call in handlers.calls] == [1, 2, 3]
    assert all(call.payload == {"to": "ann@example.com"} for call in handlers.calls)
    assert mill.outbox.run_until_empty("w1") == 0  # done jobs never run again
    assert mill.outbox.counts() == {"done": 1}


def test_backoff_grows_exponentially_and_delays_the_retry(
    mill: Ordermill, handlers: Handlers, tmp_path: Path
) -> None:
    settings = ordermill_settings(mill.settings.database_url, tmp_path,
                                  outbox_backoff_seconds=30.0)
    slow = Ordermill(settings, plugins=mill.plugins, engine=mill.engine)
    assert [slow.outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert slow.outbox.backoff(50).total_seconds() == MAX_BACKOFF_SECONDS
    handlers.fail_first["flaky"] = 1
    job_id = add_job(slow, JobRequest("flaky"))
    assert job_id is not None
    before = utcnow()
    assert slow.outbox.run_once("w1") == 1
    row = job_row(slow, job_id)
    assert row.status == "pending"
    assert row.run_after >= before + dt.timedelta(seconds=29)
    assert slow.outbox.run_once("w1") == 0  # not due yet
    assert handlers.runs_of(job_id) == 1


def test_a_delayed_job_waits_for_its_time(mill: Ordermill, handlers: Handlers) -> None:
    later = add_job(mill, JobRequest("notify", delay_seconds=3600))
    now = add_job(mill, JobRequest("notify"))
    assert mill.outbox.run_until_empty("w1") == 1
    assert [call.id for call in handlers.calls] == [now]
    assert later is not None and job_row(mill, later).status == "pending"


def test_always_failing_job_is_dead_lettered_and_can_be_retried(
    mill: Ordermill, handlers: Handlers, make_product: Callable[..., Product],
    order_factory: Callable[..., Order], staff: Actor,
) -> None:
    make_product("MUG", stock=3)
    order = order_factory([("MUG", 1)])
    handlers.failing.add("broken")
    job_id = add_job(mill, JobRequest("broken", {"hook": "https://example.com/in"}),
                     order_number=order.number)
    assert job_id is not None

    attempts = mill.settings.outbox_max_attempts
    assert attempts == DEFAULT_MAX_ATTEMPTS  # the default schedule spans more than a day
    assert mill.outbox.run_until_empty("w1") == attempts
    assert handlers.runs_of(job_id) == attempts
    row = job_row(mill, job_id)
    assert (row.status, row.attempts) == ("dead", attempts)
    assert row.last_error == "RuntimeError: broken service is down"
    assert row.finished_at is not None
    assert mill.outbox.run_until_empty("w1") == 0  # dead jobs wait for an admin
    assert mill.outbox.counts() == {"dead": 1}
    [listed] = mill.outbox.jobs(status="dead")
    assert (listed["id"], listed["kind"], listed["order_number"]) == (
        job_id, "broken", order.number)
    dead_event = events_of(mill, order.number)[-1]
    assert dead_event.type == "job_dead" and "broken" in dead_event.message
    assert dead_event.data == {"job_id": job_id, "kind": "broken"}

    handlers.failing.clear()  # the outside service is back
    mill.outbox.retry(job_id, actor_label="user:admin@shop.test")
    row = job_row(mill, job_id)
    assert (row.status, row.attempts, row.finished_at) == ("pending", 0, None)
    assert events_of(mill, order.number)[-1].type == "job_retried"
    assert mill.outbox.run_until_empty("w1") == 1
    row = job_row(mill, job_id)
    assert (row.status, row.attempts, row.last_error) == ("done", 1, None)
    assert handlers.runs_of(job_id) == attempts + 1


def test_job_max_attempts_and_unknown_kinds(mill: Ordermill, handlers: Handlers) -> None:
    handlers.failing.add("broken")
    short = add_job(mill, JobRequest("broken", max_attempts=2))
    orphan = add_job(mill, JobRequest("nobody-handles-this", max_attempts=1))
    assert short is not None and orphan is not None
    mill.outbox.run_until_empty("w1")
    assert (job_row(mill, short).status, job_row(mill, short).attempts) == ("dead", 2)
    orphan_row = job_row(mill, orphan)
    assert orphan_row.status == "dead"
    assert "no plugin registers a handler" in (orphan_row.last_error or "")


def test_retry_refuses_what_it_cannot_retry(mill: Ordermill, handlers: Handlers) -> None:
    job_id = add_job(mill, JobRequest("notify"))
    assert job_id is not None
    mill.outbox.run_until_empty("w1")
    with pytest.raises(ActionNotAllowed, match="done"):
        mill.outbox.retry(job_id)
    with pytest.raises(NotFound):
        mill.outbox.retry(job_id + 1000)


# ---------------------------------------------------------------------------- jobs from actions


class Notifier:
    """Queues a `notify` job for every event of an order, the way an e-mail plugin would."""

    def __init__(self, dedupe: bool = False) -> None:
        self.dedupe = dedupe
        self.dry_runs_seen = 0

    @hookimpl
    def jobs_for_event(self, order: Order, event: OrderEvent, ctx: ActionContext
                       ) -> list[JobRequest]:
        if ctx.dry_run:
            self.dry_runs_seen += 1
        key = f"welcome-{order.number}" if self.dedupe else None
        return [JobRequest("notify", {"event": event.type, "number": order.number},
                           dedupe_key=key)]


class Saboteur:
    """Raises in jobs_for_event for one event type: the whole action must roll back."""

    @hookimpl
    def jobs_for_event(self, order: Order, event: OrderEvent, ctx: ActionContext) -> None:
        if event.type == "accepted":
            raise RuntimeError("queue is full")


def jobs_for(mill: Ordermill, number: str) -> list[tuple[str, Mapping[str, Any]]]:
    with mill.read_session() as session:
        rows = session.scalars(select(OutboxJob).where(OutboxJob.order_number == number)
                               .order_by(OutboxJob.id)).all()
    return [(row.kind, row.payload) for row in rows]


def test_jobs_for_event_are_written_with_the_action(
    mill: Ordermill, handlers: Handlers, register_plugin: Callable[..., object],
    make_product: Callable[..., Product], order_factory: Callable[..., Order], staff: Actor,
) -> None:
    notifier = Notifier()
    register_plugin(notifier, name="test-notifier")
    make_product("MUG", stock=5)
    order = order_factory([("MUG", 2)])
    number = order.number
    assert jobs_for(mill, number) == [("notify", {"event": "placed", "number": number})]

    # a dry run goes through the hook and queues nothing
    preview = mill.orders.cancel(number, actor=staff, dry_run=True)
    assert preview.dry_run and preview.preview["jobs"] == ["notify"]
    assert notifier.dry_runs_seen == 1
    assert len(jobs_for(mill, number)) == 1

    mill.orders.accept(number, actor=staff)
    assert [payload["event"] for _k, payload in jobs_for(mill, number)] == ["placed", "accepted"]

    # a refused action queues nothing
    with pytest.raises(IllegalTransition):
        mill.orders.accept(number, actor=staff)
    assert len(jobs_for(mill, number)) == 2

    mill.orders.cancel(number, actor=staff)
    mill.orders.delete(number, actor=staff, restock=True)
    assert [payload["event"] for _k, payload in jobs_for(mill, number)] == [
        "placed", "accepted", "cancelled", "deleted"]

    # the worker runs them after the fact, even for the deleted order
    assert mill.outbox.run_until_empty("w1") == 4
    assert [call.payload["event"] for call in handlers.calls] == [
        "placed", "accepted", "cancelled", "deleted"]
    assert all(call.order_number == number for call in handlers.calls)


def test_a_failing_jobs_for_event_rolls_back_action_event_and_jobs(
    mill: Ordermill, register_plugin: Callable[..., object],
    make_product: Callable[..., Product], order_factory: Callable[..., Order], staff: Actor,
) -> None:
    register_plugin(Notifier(), name="test-notifier")
    register_plugin(Saboteur(), name="test-saboteur")
    make_product("MUG", stock=5)
    number = order_factory([("MUG", 1)]).number
    before = mill.orders.get(number)
    with pytest.raises(PluginError, match="test-saboteur"):
        mill.orders.accept(number, actor=staff)
    after = mill.orders.get(number)
    assert (after.status, after.version) == (before.status, before.version) == ("pending", 1)
    assert [event.type for event in events_of(mill, number)] == ["placed"]
    assert [payload["event"] for _k, payload in jobs_for(mill, number)] == ["placed"]


def test_dedupe_key_makes_enqueue_idempotent(
    mill: Ordermill, handlers: Handlers, register_plugin: Callable[..., object],
    make_product: Callable[..., Product], order_factory: Callable[..., Order], staff: Actor,
) -> None:
    first = add_job(mill, JobRequest("notify", {"n": 1}, dedupe_key="receipt-1"))
    assert first is not None
    assert add_job(mill, JobRequest("notify", {"n": 2}, dedupe_key="receipt-1")) is None
    with mill.write_session() as session, session.begin():  # twice in one transaction
        assert enqueue(session, JobRequest("notify", dedupe_key="receipt-2")) is not None
        assert enqueue(session, JobRequest("notify", dedupe_key="receipt-2")) is None
    assert job_count(mill) == 2
    mill.outbox.run_until_empty("w1")
    # still deduplicated once the first job is done
    assert add_job(mill, JobRequest("notify", dedupe_key="receipt-1")) is None
    assert job_count(mill) == 2

    register_plugin(Notifier(dedupe=True), name="test-notifier")
    make_product("MUG", stock=5)
    number = order_factory([("MUG", 1)], paid=True, accepted=True).number
    assert jobs_for(mill, number) == [("notify", {"event": "placed", "number": number})]


@pytest.mark.slow  # a race between threads
@pytest.mark.commits  # two connections
def test_dedupe_key_holds_when_two_transactions_enqueue_at_once(mill: Ordermill) -> None:
    """The second transaction waits on the first one's unique key, then queues nothing
    instead of failing the action that enqueued it."""
    other = Ordermill(mill.settings, plugins=mill.plugins,
                      engine=make_engine(mill.settings.database_url))
    outcome: dict[str, Any] = {}
    started = threading.Event()

    def second() -> None:
        try:
            with other.write_session() as session, session.begin():
                started.set()
                outcome["row"] = enqueue(session, JobRequest("notify", dedupe_key="same"))
                session.flush()
        except BaseException as error:
            outcome["error"] = error

    try:
        with mill.write_session() as session:
            session.begin()
            assert enqueue(session, JobRequest("notify", dedupe_key="same")) is not None
            session.flush()
            thread = threading.Thread(target=second, daemon=True)
            thread.start()
            # PostgreSQL: the second insert blocks on our uncommitted key until we commit.
            # SQLite: the second BEGIN IMMEDIATE waits for our write lock.
            started.wait(0.5)
            thread.join(0.5)
            session.commit()
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive()
    finally:
        other.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["row"] is None
    assert job_count(mill) == 1


# ---------------------------------------------------------------------------- leases


def test_a_crashed_workers_job_is_reclaimed_after_its_lease(
    mill: Ordermill, handlers: Handlers
) -> None:
    job_id = add_job(mill, JobRequest("notify", {"n": 1}))
    assert job_id is not None
    [claimed] = mill.outbox.claim("crashed-worker")
    assert (claimed.id, claimed.attempts) == (job_id, 1)
    row = job_row(mill, job_id)
    assert (row.status, row.locked_by) == ("running", "crashed-worker")
    # the worker dies here; while its lease lasts nobody else takes the job
    assert mill.outbox.run_once("rescuer") == 0

    stale = utcnow() - dt.timedelta(seconds=LEASE_SECONDS + 5)
    with mill.write_session() as session, session.begin():
        session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(locked_at=stale))
    assert mill.outbox.run_once("rescuer") == 1
    row = job_row(mill, job_id)
    assert (row.status, row.attempts, row.locked_by) == ("done", 2, None)
    assert [call.attempts for call in handlers.calls] == [2]

    # the crashed worker coming back to life cannot overwrite the outcome
    handlers.failing.add("notify")
    assert mill.outbox.run_job(claimed, "crashed-worker") is False
    assert job_row(mill, job_id).status == "done"


def test_a_reclaimed_job_finished_late_by_its_first_worker_is_not_marked_twice(
    mill: Ordermill, handlers: Handlers
) -> None:
    job_id = add_job(mill, JobRequest("notify"))
    [slow] = mill.outbox.claim("slow-worker")
    with mill.write_session() as session, session.begin():
        session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(
            locked_at=utcnow() - dt.timedelta(seconds=LEASE_SECONDS + 5)))
    [taken] = mill.outbox.claim("second-worker")
    assert taken.id == job_id and taken.attempts == 2
    assert mill.outbox.run_job(slow, "slow-worker") is True  # its late success changes nothing
    row = job_row(mill, job_id)
    assert (row.status, row.locked_by) == ("running", "second-worker")
    assert mill.outbox.run_job(taken, "second-worker") is True
    assert job_row(mill, job_id).status == "done"


# ---------------------------------------------------------------------------- many workers


@pytest.fixture
def worker_mills(mill: Ordermill, handlers: Handlers) -> Iterator[list[Ordermill]]:
    """Two worker processes' worth of Ordermill: own engine each, same plugin registered."""
    mills = []
    for _ in range(2):
        settings = mill.settings
        host = PluginHost(settings)
        host.register(handlers, "test-job-handlers", source="test")
        mills.append(Ordermill(settings, plugins=host,
                               engine=make_engine(settings.database_url)))
    yield mills
    for other in mills:
        other.dispose()


def enqueue_many(mill: Ordermill, count: int, kind: str = "count") -> list[int]:
    with mill.write_session() as session, session.begin():
        rows = [enqueue(session, JobRequest(kind, {"i": i})) for i in range(count)]
        session.flush()
        return [row.id for row in rows if row is not None]


def assert_each_ran_once(mill: Ordermill, handlers: Handlers, ids: list[int]) -> None:
    ran = [call.id for call in handlers.calls]
    duplicates = [job_id for job_id, n in Counter(ran).items() if n > 1]
    assert not duplicates, f"jobs run more than once: {duplicates[:10]}"
    assert sorted(ran) == sorted(ids)
    assert mill.outbox.counts() == {"done": len(ids)}
    with mill.read_session() as session:
        attempts = set(session.scalars(select(OutboxJob.attempts)))
    assert attempts == {1}


@pytest.mark.commits  # worker threads, own engines
@pytest.mark.slow
def test_two_workers_run_each_of_500_jobs_exactly_once(
    mill: Ordermill, handlers: Handlers, worker_mills: list[Ordermill]
) -> None:
    ids = enqueue_many(mill, 500)
    assert len(set(ids)) == 500
    barrier = threading.Barrier(2, timeout=JOIN_SECONDS)
    errors: list[BaseException] = []
    batches: Counter[str] = Counter()

    def work(worker: Ordermill, worker_id: str) -> None:
        try:
            barrier.wait()
            while True:
                ran = worker.outbox.run_once(worker_id, limit=10)
                if ran == 0:
                    return
                batches[worker_id] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(m, f"worker-{i}"), name=f"worker-{i}",
                                daemon=True) for i, m in enumerate(worker_mills)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive()
    assert not errors, errors
    assert_each_ran_once(mill, handlers, ids)
    assert set(handlers.seen_by.values()) == {"worker-0", "worker-1"}, batches


@pytest.mark.commits  # worker threads, own engines
@pytest.mark.slow
def test_run_forever_workers_drain_the_queue_and_stop(
    mill: Ordermill, handlers: Handlers, worker_mills: list[Ordermill]
) -> None:
    ids = enqueue_many(mill, 120)
    stop = threading.Event()
    threads = [threading.Thread(target=m.outbox.run_forever, args=(stop,),
                                kwargs={"poll_seconds": 0.01, "worker_id": f"forever-{i}"},
                                daemon=True) for i, m in enumerate(worker_mills)]
    for thread in threads:
        thread.start()
    deadline = utcnow() + dt.timedelta(seconds=JOIN_SECONDS)
    while mill.outbox.counts().get("done", 0) < len(ids) and utcnow() < deadline:
        stop.wait(0.02)
    more = enqueue_many(mill, 5)  # jobs queued while the workers idle are picked up too
    while mill.outbox.counts().get("done", 0) < len(ids) + 5 and utcnow() < deadline:
        stop.wait(0.02)
    stop.set()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive()
    assert_each_ran_once(mill, handlers, ids + more)
