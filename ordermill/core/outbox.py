"""The durable outbox: outside work written in the action's transaction, run later by workers.

A job is a row written in the same transaction as the action that caused it, so it exists if
and only if the action committed. Workers claim jobs one at a time (PostgreSQL: FOR UPDATE
SKIP LOCKED, so several workers never take the same job; SQLite: BEGIN IMMEDIATE, one writer
at a time), run the handler registered for the job's kind, and mark it done, or pending again
after the retry schedule's wait (core/backoff.py: exponential with jitter, capped, more than a
day in all), or dead after `max_attempts`. Claiming one job at a time means a worker killed
with kill -9 strands only the job it was running, and only for a short lease
(`outbox_lease_seconds`, 20 s by default) that a heartbeat renews while the job runs; then
another worker takes it. Handlers must therefore be idempotent (use the job id as the
idempotency key of any outside call) and may call `complete` to record their outcome and the
job's end in one transaction. Every worker of one database must use the same lease length.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordermill.core.backoff import DEFAULT_CAP_SECONDS, DEFAULT_LEASE_SECONDS, RetrySchedule
from ordermill.core.context import ActionContext, message_columns
from ordermill.core.errors import ActionNotAllowed, NotFound
from ordermill.core.i18n import current_locale, event_msg, use_locale
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderEvent, OutboxJob, utcnow
from ordermill.core.specs import Actor, JobRequest, OutboxJobView

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.outbox")
LEASE_SECONDS = DEFAULT_LEASE_SECONDS  # the default; `outbox_lease_seconds` sets it
MAX_BACKOFF_SECONDS = DEFAULT_CAP_SECONDS  # the default; `outbox_backoff_max_seconds` sets it
OUTBOX_ACTOR = Actor.system("outbox")  # who writes job_dead / job_retried notes


def enqueue(
    session: Session,
    job: JobRequest,
    *,
    order_number: str | None = None,
    default_max_attempts: int = 5,
) -> OutboxJob | None:
    """Add a job in the caller's transaction. With a `dedupe_key` already queued, do nothing."""
    if job.dedupe_key is not None:
        existing = session.scalar(
            select(OutboxJob.id).where(OutboxJob.dedupe_key == job.dedupe_key)
        )
        if existing is not None:
            return None
    row = OutboxJob(
        kind=job.kind,
        payload=dict(job.payload),
        order_number=order_number,
        dedupe_key=job.dedupe_key,
        max_attempts=job.max_attempts or default_max_attempts,
        run_after=job.run_at or utcnow() + dt.timedelta(seconds=job.delay_seconds),
        status="pending",
        attempts=0,
    )
    if job.dedupe_key is None:
        session.add(row)
        return row
    # Another transaction may be queueing the same key right now (it was not visible to the
    # check above): the unique index decides, inside a savepoint, so that losing the race
    # queues nothing instead of failing the caller's whole action.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        if "dedupe_key" not in str(error.orig):
            raise
        return None
    return row


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _held(job_id: int, worker_id: str, attempts: int) -> Any:
    """The claim of one worker on one attempt: a reclaimed job's old worker matches nothing."""
    return ((OutboxJob.id == job_id) & (OutboxJob.status == "running")
            & (OutboxJob.locked_by == worker_id) & (OutboxJob.attempts == attempts))


def note_on_order(ctx: ActionContext, row: OutboxJob, kind: str, message: str) -> None:
    """An event on the job's order (dead-lettered, retried), so the history says why mail or
    a provisioning command came late or not at all.

    Written by `ctx.record_event` in the caller's transaction (`ctx.session`), by `ctx.actor`,
    leaving the order itself untouched: a job's fate changes nothing an admin edits. An order
    deleted since keeps the note under its number, as deletion's own event is kept."""
    if row.order_number is None:
        return
    session = ctx.session
    if session is None:
        raise RuntimeError("note_on_order needs the caller's transaction in ctx.session")
    data = {"job_id": row.id, "kind": row.kind}
    order = session.scalar(select(Order).where(Order.number == row.order_number))
    if order is None:  # the order is gone: no row to attach to (see core/deletion.py)
        session.add(OrderEvent(order_id=None, order_number=row.order_number, type=kind,
                               actor=ctx.actor.label, data=data,
                               **message_columns(message)))
        return
    ctx.record_event(order, kind, message, data=data, touch=False)


class Outbox:
    """Claiming, running and administering outbox jobs.

    `rng` draws the retry jitter; tests pass a seeded `random.Random` to get a known schedule.
    """

    def __init__(self, mill: Ordermill, rng: random.Random | None = None) -> None:
        self.mill = mill
        self.rng = rng or random.Random()

    @property
    def schedule(self) -> RetrySchedule:
        settings = self.mill.settings
        return RetrySchedule(base_seconds=settings.outbox_backoff_seconds,
                             cap_seconds=settings.outbox_backoff_max_seconds,
                             jitter=settings.outbox_backoff_jitter)

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.mill.settings.outbox_lease_seconds)

    def backoff(self, attempts: int) -> dt.timedelta:
        """The nominal wait after the `attempts`-th failure (the jitter only adds to it)."""
        return dt.timedelta(seconds=self.schedule.nominal(attempts))

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """The wait actually used after the `attempts`-th failure: nominal plus jitter."""
        return self.schedule.delay(attempts, self.rng)

    def claim(self, worker_id: str, limit: int = 1,
              exclude: Collection[int] = ()) -> list[OutboxJobView]:
        """Take up to `limit` due jobs (one by default) for this worker, in one short
        transaction. A running job whose lease ran out (no heartbeat) is due again."""
        now = utcnow()
        with self.mill.write_session() as session, session.begin():
            query = (
                select(OutboxJob.id)
                .where(or_(
                    (OutboxJob.status == "pending") & (OutboxJob.run_after <= now),
                    (OutboxJob.status == "running") & (OutboxJob.locked_at < now - self.lease),
                ))
                .order_by(OutboxJob.run_after, OutboxJob.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            if exclude:
                query = query.where(OutboxJob.id.not_in(list(exclude)))
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(
                update(OutboxJob)
                .where(OutboxJob.id.in_(ids))
                .values(status="running", locked_by=worker_id, locked_at=now,
                        attempts=OutboxJob.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(
                select(OutboxJob.id, OutboxJob.kind, OutboxJob.payload, OutboxJob.order_number,
                       OutboxJob.attempts).where(OutboxJob.id.in_(ids)).order_by(OutboxJob.id)
            ).all()
        return [OutboxJobView(r.id, r.kind, r.payload, r.order_number, r.attempts, worker_id)
                for r in rows]

    def complete(self, session: Session, job: OutboxJobView) -> bool:
        """Mark `job` done in the caller's transaction, so a handler commits its outcome
        (e.g. "e-mail sent") and the job's end in one step; False when the claim was lost."""
        if job.worker_id is None:
            return False
        done = session.execute(
            update(OutboxJob).where(_held(job.id, job.worker_id, job.attempts))
            .values(status="done", finished_at=utcnow(), locked_by=None, last_error=None)
            .execution_options(synchronize_session=False))
        return bool(done.rowcount)

    @contextmanager
    def _heartbeat(self, job: OutboxJobView, worker_id: str) -> Iterator[None]:
        """Renew the job's lease every third of it while the handler runs."""
        stop = threading.Event()
        interval = max(0.1, self.lease.total_seconds() / 3)

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    with self.mill.write_session() as session, session.begin():
                        renewed = session.execute(
                            update(OutboxJob).where(_held(job.id, worker_id, job.attempts))
                            .values(locked_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
                except Exception:  # the next beat tries again; the lease is three beats long
                    log.warning("outbox job %s: heartbeat failed", job.id, exc_info=True)
                    continue
                if not renewed:  # finished, or taken over after a lost lease
                    return

        thread = threading.Thread(target=beat, name=f"ordermill-heartbeat-{job.id}",
                                  daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=self.lease.total_seconds())

    def run_job(self, job: OutboxJobView, worker_id: str) -> bool:
        """Run one claimed job and record the outcome; True when it succeeded."""
        spec = self.mill.job_handlers.get(job.kind)
        try:
            if spec is None:
                raise LookupError(f"no plugin registers a handler for job kind {job.kind!r}")
            # a worker thread has no request to inherit a zone from: handlers format dates in
            # the shop's zone, in the language around them unless they choose the buyer's
            with self._heartbeat(job, worker_id), \
                    use_locale(current_locale(), self.mill.settings.timezone):
                spec.handler(job=job, mill=self.mill)
        except Exception as error:
            self._record_failure(job, worker_id, f"{type(error).__name__}: {error}")
            return False
        with self.mill.write_session() as session, session.begin():
            session.execute(
                update(OutboxJob)
                .where(_held(job.id, worker_id, job.attempts))
                .values(status="done", finished_at=utcnow(), locked_by=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
        return True

    def _record_failure(self, job: OutboxJobView, worker_id: str, error: str) -> None:
        log.warning("outbox job %s (%s) attempt %s failed: %s",
                    job.id, job.kind, job.attempts, error)
        with self.mill.write_session() as session, session.begin():
            row = session.get(OutboxJob, job.id)
            if (row is None or row.status != "running" or row.locked_by != worker_id
                    or row.attempts != job.attempts):
                return
            row.last_error = error
            row.locked_by = None
            if row.attempts >= row.max_attempts:
                row.status = "dead"
                row.finished_at = utcnow()
                self._note_on_order(session, row, "job_dead", event_msg(
                    "Background job %(kind)s failed %(attempts)s times and was dead-lettered: "
                    "%(error)s", kind=row.kind, attempts=row.attempts, error=str(error)))
            else:
                row.status = "pending"
                row.run_after = utcnow() + self.retry_delay(row.attempts)

    def _note_on_order(self, session: Session, row: OutboxJob, kind: str, message: str) -> None:
        ctx = ActionContext(self.mill, OUTBOX_ACTOR, kind, session=session)
        note_on_order(ctx, row, kind, message)

    def run_once(self, worker_id: str | None = None, limit: int = 10,
                 stop: threading.Event | None = None) -> int:
        """Run up to `limit` due jobs, claiming each just before it runs (a job failed in
        this pass is not taken again in it); return how many jobs were run."""
        worker_id = worker_id or default_worker_id()
        ran: list[int] = []
        while len(ran) < limit and not (stop is not None and stop.is_set()):
            jobs = self.claim(worker_id, 1, exclude=ran)
            if not jobs:
                break
            self.run_job(jobs[0], worker_id)
            ran.append(jobs[0].id)
        return len(ran)

    def run_until_empty(self, worker_id: str | None = None, max_batches: int = 10_000) -> int:
        """Run due jobs until none is due (tests, `ordermill worker --once`)."""
        total = 0
        for _batch in range(max_batches):
            ran = self.run_once(worker_id)
            if ran == 0:
                break
            total += ran
        return total

    def run_forever(self, stop: threading.Event, *, poll_seconds: float = 1.0,
                    worker_id: str | None = None) -> None:
        worker_id = worker_id or default_worker_id()
        while not stop.is_set():
            try:
                ran = self.run_once(worker_id, stop=stop)
            except Exception:  # a database hiccup must not kill the worker
                log.exception("outbox worker %s: batch failed", worker_id)
                ran = 0
            if ran == 0:
                stop.wait(poll_seconds)

    # ---- administration --------------------------------------------------------------------

    def jobs(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self.mill.read_session() as session:
            query = select(OutboxJob).order_by(OutboxJob.id.desc()).limit(limit)
            if status:
                query = query.where(OutboxJob.status == status)
            return [_job_dict(job) for job in session.scalars(query)]

    def counts(self) -> Mapping[str, int]:
        with self.mill.read_session() as session:
            rows = session.execute(
                select(OutboxJob.status, func.count()).group_by(OutboxJob.status)
            ).all()
        return {status: count for status, count in rows}

    def retry(self, job_id: int, actor_label: str = "system") -> None:
        """Give a dead (or failed) job a fresh set of attempts, due now."""
        with self.mill.write_session() as session, session.begin():
            row = session.get(OutboxJob, job_id)
            if row is None:
                raise NotFound(_("No outbox job %(job_id)s.", job_id=job_id))
            if row.status not in ("dead", "pending"):
                raise ActionNotAllowed(_("Job %(job_id)s is %(status)s; only dead or waiting jobs "
                                         "can be retried.", job_id=job_id, status=row.status))
            row.status = "pending"
            row.attempts = 0
            row.run_after = utcnow()
            row.finished_at = None
            self._note_on_order(session, row, "job_retried",
                                event_msg("Background job %(kind)s retried by %(actor)s.",
                                          kind=row.kind, actor=actor_label))


def _job_dict(job: OutboxJob) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "order_number": job.order_number,
        "last_error": job.last_error, "run_after": job.run_after.isoformat(),
        "created_at": job.created_at.isoformat(), "payload": job.payload,
    }
