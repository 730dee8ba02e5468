"""`ordermill outbox retry-dead`: retry dead jobs in bulk after an outage.

Kept out of cli.py (already long); cli.py only registers it on its `outbox` group. Like every
CLI command it acts as the system actor "cli", so the orders' history says where the retry
came from; the filter and the one-transaction retry are the core's (core/dead_jobs.py).
"""

from __future__ import annotations

import click

from ordermill.core.dead_jobs import DeadJobFilter, retry_dead_jobs


@click.command("retry-dead")
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
    from ordermill.cli import CLI_ACTOR, _echo_json, get_mill

    job_filter = DeadJobFilter(kind=kind, order_number=order_number,
                               error_contains=error_contains, ids=ids, everything=everything)
    result = retry_dead_jobs(get_mill(), job_filter, actor=CLI_ACTOR, dry_run=dry_run)
    if as_json:
        _echo_json(result.to_dict())
        return
    if not result.count:
        click.echo(f"No dead job matches ({job_filter.describe()}).")
        return
    verb = "would run again" if dry_run else "will run again"
    click.echo(f"{result.count} dead job(s) {verb} ({job_filter.describe()}): "
               f"{', '.join(map(str, result.job_ids))}.")


__all__ = ["retry_dead"]
