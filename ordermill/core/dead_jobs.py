"""Dead jobs: finding them, counting them, and retrying them in bulk.

A job is dead when it failed on every attempt of the retry schedule (more than a day). After
an outage longer than that, hundreds of e-mails may be dead at once, so staff retry them by
filter (a kind, an order, a text in the error, chosen ids) rather than one by one. The CLI,
the API and the admin all call `retry_dead_jobs`: one transaction, one `job_retried` event on
each order concerned, and the `manage_jobs` permission checked here, not in the views.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Select, func, select, update

from ordermill.core.context import ActionContext
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.models import OutboxJob, utcnow
from ordermill.core.outbox import note_on_order
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.outbox")
MAX_TEXT = 200


@attrs.frozen
class DeadJobFilter:
    """Which dead jobs: every given criterion must match. `everything` must be set to mean
    all dead jobs, so an empty form or body never retries everything by accident."""

    kind: str | None = None
    order_number: str | None = None
    error_contains: str | None = None
    ids: tuple[int, ...] = ()
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.kind or self.order_number or self.error_contains or self.ids)

    def describe(self) -> str:
        parts = [f"kind {self.kind}" if self.kind else "",
                 f"order {self.order_number}" if self.order_number else "",
                 f"error containing {self.error_contains!r}" if self.error_contains else "",
                 f"ids {', '.join(map(str, self.ids))}" if self.ids else ""]
        return ", ".join(part for part in parts if part) or "all"

    def check(self) -> None:
        for name in ("kind", "order_number", "error_contains"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_TEXT:
                raise InvalidInput(_("The %(value)s filter is longer than %(MAX_TEXT)s characters.",
                                     value=name.replace('_', ' '), MAX_TEXT=MAX_TEXT),
                                   details={"field": name})

    def apply(self, query: Select[Any]) -> Select[Any]:
        query = query.where(OutboxJob.status == "dead")
        if self.kind:
            query = query.where(OutboxJob.kind == self.kind)
        if self.order_number:
            query = query.where(OutboxJob.order_number == self.order_number)
        if self.error_contains:
            escaped = (self.error_contains.replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_"))
            query = query.where(OutboxJob.last_error.ilike(f"%{escaped}%", escape="\\"))
        if self.ids:
            query = query.where(OutboxJob.id.in_(self.ids))
        return query


@attrs.frozen
class RetryResult:
    """What a bulk retry did (or, in a dry run, would do)."""

    job_ids: tuple[int, ...]
    dry_run: bool = False
    filter: DeadJobFilter = DeadJobFilter()

    @property
    def count(self) -> int:
        return len(self.job_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "count": self.count, "job_ids": list(self.job_ids),
                "filter": self.filter.describe()}


def dead_job_count(mill: Ordermill) -> int:
    """How many jobs are dead (the admin's badge; cheap: the status index answers it)."""
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxJob)
                                  .where(OutboxJob.status == "dead")) or 0)


def dead_job_kinds(mill: Ordermill) -> Mapping[str, int]:
    """Dead jobs per kind, for the filter of the admin page."""
    with mill.read_session() as session:
        rows = session.execute(select(OutboxJob.kind, func.count())
                               .where(OutboxJob.status == "dead")
                               .group_by(OutboxJob.kind).order_by(OutboxJob.kind)).all()
    return {kind: count for kind, count in rows}


def job_to_dict(job: OutboxJob) -> dict[str, Any]:
    """A job for staff: no payload (handlers may carry data staff need not see)."""
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "order_number": job.order_number,
        "last_error": job.last_error, "created_at": job.created_at.isoformat(),
        "run_after": job.run_after.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def list_dead_jobs(mill: Ordermill, job_filter: DeadJobFilter, *, actor: Actor,
                   limit: int = 100) -> list[dict[str, Any]]:
    """Dead jobs matching the filter, most recently dead first."""
    require(actor, "manage_jobs")
    job_filter.check()
    with mill.read_session() as session:
        query = job_filter.apply(select(OutboxJob)).order_by(
            OutboxJob.finished_at.desc(), OutboxJob.id.desc()).limit(limit)
        return [job_to_dict(job) for job in session.scalars(query)]


def failing_jobs(mill: Ordermill, *, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs that failed and wait for their next attempt (not dead yet), newest error first:
    the admin's Needs attention page shows them beside the dead ones."""
    require(actor, "manage_jobs")
    with mill.read_session() as session:
        query = (select(OutboxJob).where(OutboxJob.status.in_(("pending", "running")),
                                         OutboxJob.last_error.is_not(None))
                 .order_by(OutboxJob.id.desc()).limit(limit))
        return [job_to_dict(job) for job in session.scalars(query)]


def retry_dead_jobs(mill: Ordermill, job_filter: DeadJobFilter, *, actor: Actor,
                    dry_run: bool = False) -> RetryResult:
    """Give every matching dead job a fresh set of attempts, due now, in one transaction."""
    require(actor, "manage_jobs")
    job_filter.check()
    if job_filter.is_empty and not job_filter.everything:
        raise InvalidInput(_("Say which dead jobs to retry: a kind, an order, an error text, job "
                             "ids, or all of them."), details={"field": "filter"})
    with mill.write_session() as session, session.begin():
        rows: Sequence[OutboxJob] = session.scalars(
            job_filter.apply(select(OutboxJob)).order_by(OutboxJob.id).with_for_update()
        ).all()
        ids = tuple(row.id for row in rows)
        if dry_run or not ids:  # nothing written: the commit only releases the row locks
            return RetryResult(ids, dry_run, job_filter)
        session.execute(
            update(OutboxJob).where(OutboxJob.id.in_(ids), OutboxJob.status == "dead")
            .values(status="pending", attempts=0, run_after=utcnow(), finished_at=None)
            .execution_options(synchronize_session=False))
        ctx = ActionContext(mill, actor, "retry_dead_jobs", session=session)
        for row in rows:
            note_on_order(ctx, row, "job_retried",
                          event_msg("Background job %(kind)s retried by %(actor)s.",
                                    kind=row.kind, actor=actor.label))
    log.info("%s retried %d dead job(s) (%s)", actor.label, len(ids), job_filter.describe())
    return RetryResult(ids, False, job_filter)


__all__ = ["DeadJobFilter", "RetryResult", "dead_job_count", "dead_job_kinds", "failing_jobs",
           "job_to_dict", "list_dead_jobs", "retry_dead_jobs"]
