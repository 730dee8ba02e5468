"""The durable outbox: outside work written in the action's transaction, run later by workers.

A job is a row written in the same transaction as the action that caused it, so it exists if
and only if the action committed. Workers claim jobs (PostgreSQL: FOR UPDATE SKIP LOCKED, so
several workers never take the same job; SQLite: BEGIN IMMEDIATE, one writer at a time), run
the handler registered for the job's kind, and mark it done, or pending again with exponential
backoff, or dead after `max_attempts`. A worker that dies mid-job loses its lease after
`LEASE_SECONDS` and the job is claimed again. Handlers must therefore be idempotent (use the
job id as the idempotency key of any outside call).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordermill.core.errors import ActionNotAllowed, NotFound
from ordermill.core.models import Order, OrderEvent, OutboxJob, utcnow
from ordermill.core.specs import JobRequest, OutboxJobView

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.outbox")
LEASE_SECONDS = 300
MAX_BACKOFF_SECONDS = 3600


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
        run_after=utcnow() + dt.timedelta(seconds=job.delay_seconds),
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


class Outbox:
    """Claiming, running and administering outbox jobs."""

    def __init__(self, mill: Ordermill) -> None:
        self.mill = mill

    def backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.mill.settings.outbox_backoff_seconds * (2 ** max(0, attempts - 1))
        return dt.timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))

    def claim(self, worker_id: str, limit: int = 10) -> list[OutboxJobView]:
        """Take up to `limit` due jobs for this worker, in one short transaction."""
        now = utcnow()
        with self.mill.write_session() as session, session.begin():
            ids = list(session.scalars(
                select(OutboxJob.id)
                .where(or_(
                    (OutboxJob.status == "pending") & (OutboxJob.run_after <= now),
                    (OutboxJob.status == "running")
                    & (OutboxJob.locked_at < now - dt.timedelta(seconds=LEASE_SECONDS)),
                ))
                .order_by(OutboxJob.run_after, OutboxJob.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ))
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
        return [OutboxJobView(r.id, r.kind, r.payload, r.order_number, r.attempts) for r in rows]

    def run_job(self, job: OutboxJobView, worker_id: str) -> bool:
        """Run one claimed job and record the outcome; True when it succeeded."""
        spec = self.mill.job_handlers.get(job.kind)
        try:
            if spec is None:
                raise LookupError(f"no plugin registers a handler for job kind {job.kind!r}")
            spec.handler(job=job, mill=self.mill)
        except Exception as error:
            self._record_failure(job, worker_id, f"{type(error).__name__}: {error}")
            return False
        with self.mill.write_session() as session, session.begin():
            session.execute(
                update(OutboxJob)
                .where(OutboxJob.id == job.id, OutboxJob.locked_by == worker_id)
                .values(status="done", finished_at=utcnow(), locked_by=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
        return True

    def _record_failure(self, job: OutboxJobView, worker_id: str, error: str) -> None:
        log.warning("outbox job %s (%s) attempt %s failed: %s",
                    job.id, job.kind, job.attempts, error)
        with self.mill.write_session() as session, session.begin():
            row = session.get(OutboxJob, job.id)
            if row is None or row.locked_by != worker_id:
                return
            row.last_error = error
            row.locked_by = None
            if row.attempts >= row.max_attempts:
                row.status = "dead"
                row.finished_at = utcnow()
                self._note_on_order(session, row, "job_dead",
                                    f"Background job {row.kind} failed {row.attempts} times and "
                                    f"was dead-lettered: {error}")
            else:
                row.status = "pending"
                row.run_after = utcnow() + self.backoff(row.attempts)

    def _note_on_order(self, session: Session, row: OutboxJob, kind: str, message: str) -> None:
        if row.order_number is None:
            return
        order_id = session.scalar(select(Order.id).where(Order.number == row.order_number))
        session.add(OrderEvent(
            order_id=order_id, order_number=row.order_number, type=kind, actor="system:outbox",
            message=message, data={"job_id": row.id, "kind": row.kind},
        ))

    def run_once(self, worker_id: str | None = None, limit: int = 10) -> int:
        """Claim and run one batch; return how many jobs were run."""
        worker_id = worker_id or default_worker_id()
        jobs = self.claim(worker_id, limit)
        for job in jobs:
            self.run_job(job, worker_id)
        return len(jobs)

    def run_until_empty(self, worker_id: str | None = None, max_batches: int = 10_000) -> int:
        """Run due jobs until none is due (tests, `ordermill worker --once`)."""
        total = 0
        for _ in range(max_batches):
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
                ran = self.run_once(worker_id)
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
                raise NotFound(f"No outbox job {job_id}.")
            if row.status not in ("dead", "pending"):
                raise ActionNotAllowed(f"Job {job_id} is {row.status}; only dead or waiting "
                                       f"jobs can be retried.")
            row.status = "pending"
            row.attempts = 0
            row.run_after = utcnow()
            row.finished_at = None
            self._note_on_order(session, row, "job_retried",
                                f"Background job {row.kind} retried by {actor_label}.")


def _job_dict(job: OutboxJob) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "order_number": job.order_number,
        "last_error": job.last_error, "run_after": job.run_after.isoformat(),
        "created_at": job.created_at.isoformat(), "payload": job.payload,
    }
