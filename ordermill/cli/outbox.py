"""`ordermill outbox ...`: list background jobs and retry dead ones, one or in bulk.

Like every CLI command a retry acts as the system actor "cli", so the orders' history says
where it came from; the bulk filter and its one-transaction retry are the core's
(core/dead_jobs.py)."""

from __future__ import annotations

import click
from rich.table import Table

from ordermill.cli.common import CLI_ACTOR, _console, _echo_json, get_mill
from ordermill.core.dead_jobs import DeadJobFilter, retry_dead_jobs
from ordermill.core.i18n import gettext as _


@click.group()
def outbox() -> None:
    """Background jobs (e-mails, webhooks, provisioning)."""


@outbox.command("list")
@click.option("--status", default=None,
              type=click.Choice(["pending", "running", "done", "dead"]),
              help="Only jobs in this state.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def outbox_list(status: str | None, limit: int, as_json: bool) -> None:
    """List outbox jobs, newest first."""
    mill = get_mill()
    jobs = mill.outbox.jobs(status, limit=limit)
    if as_json:
        _echo_json(jobs)
        return
    if not jobs:
        click.echo(_("No jobs."))
        return
    table = Table()
    for column in ("ID", "Kind", "Status", "Attempts", "Order", "Run after", "Last error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(str(job["id"]), job["kind"], job["status"],
                      f"{job['attempts']}/{job['max_attempts']}", job["order_number"] or "",
                      job["run_after"][:16].replace("T", " "), job["last_error"] or "")
    _console().print(table)


@outbox.command("retry")
@click.argument("job_id", type=int)
def outbox_retry(job_id: int) -> None:
    """Give a dead job a fresh set of attempts, due now."""
    get_mill().outbox.retry(job_id, actor_label=CLI_ACTOR.label)
    click.echo(_("Job %(job_id)s will run again.", job_id=job_id))


@outbox.command("retry-dead")
@click.option("--kind", default=None, help="Only dead jobs of this kind, e.g. notify_email.send.")
@click.option("--order", "order_number", default=None, help="Only dead jobs of this order.")
@click.option("--error", "error_contains", default=None,
              help="Only dead jobs whose last error contains this text (any case).")
@click.option("--id", "ids", multiple=True, type=click.IntRange(1, 2**31 - 1),
              help="Only this job (repeat for several).")
@click.option("--all", "everything", is_flag=True,
              help="Every dead job (needed when no other filter is given).")
@click.option("--dry-run", is_flag=True, help="Only say which jobs would be retried.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def retry_dead(kind: str | None, order_number: str | None, error_contains: str | None,
               ids: tuple[int, ...], everything: bool, dry_run: bool, as_json: bool) -> None:
    """Give dead jobs a fresh set of attempts, due now (all of a kind, or a filter)."""
    job_filter = DeadJobFilter(kind=kind, order_number=order_number,
                               error_contains=error_contains, ids=ids, everything=everything)
    result = retry_dead_jobs(get_mill(), job_filter, actor=CLI_ACTOR, dry_run=dry_run)
    if as_json:
        _echo_json(result.to_dict())
        return
    if not result.count:
        click.echo(_("No dead job matches (%(describe)s).", describe=job_filter.describe()))
        return
    verb = "would run again" if dry_run else "will run again"
    click.echo(_("%(count)s dead job(s) %(verb)s (%(describe)s): %(value)s.", count=result.count,
                 verb=verb, describe=job_filter.describe(),
                 value=', '.join(map(str, result.job_ids))))
