"""`ordermill subscriptions ...`: list, show, act on recurring orders and run the schedule.

    ordermill subscriptions start NUMBER [--interval "1 month"] [--count 3]
    ordermill subscriptions list [--status active] [--json]
    ordermill subscriptions show ID [--json]
    ordermill subscriptions suspend|resume|complete|retry ID
    ordermill subscriptions run        one scheduler pass now (invoices, queued debits)
    ordermill subscriptions schedule   queue the scheduler job (the worker then keeps it going)
"""

from __future__ import annotations

import json
from typing import Any

import click

from ordermill.api import Actor, current_mill, utcnow
from ordermill.plugins.subscriptions import engine, reading, scheduler
from ordermill.plugins.subscriptions.i18n import _
from ordermill.plugins.subscriptions.models import STATUSES

CLI_ACTOR = Actor.system("cli")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _line(row: dict[str, Any]) -> str:
    remaining = row["remaining"] if row["remaining"] is not None else "open-ended"
    return (f"{row['id']}  {row['order_number']}  {row['status_label']}  {row['amount']} "
            f"{row['currency']} every {row['interval']}  paid {row['payments_made']}  "
            f"remaining {remaining}  next {(row['next_due_at'] or '-')[:10]}")


def add_commands(cli: click.Group) -> None:
    """Add the `subscriptions` group to `cli`."""

    @cli.group("subscriptions")
    def subscriptions() -> None:
        """Recurring orders: list, show, suspend, resume, complete, retry, run."""

    @subscriptions.command("list")
    @click.option("--status", type=click.Choice(STATUSES), default=None)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def list_command(status: str | None, as_json: bool) -> None:
        """List recurring orders, newest first."""
        rows = reading.list_subscriptions(current_mill(), actor=CLI_ACTOR, status=status)
        if as_json:
            _echo_json({"subscriptions": rows})
            return
        if not rows:
            click.echo(_("No recurring orders."))
        for row in rows:
            click.echo(_line(row))

    @subscriptions.command("show")
    @click.argument("subscription_id", type=int)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def show(subscription_id: int, as_json: bool) -> None:
        """One subscription: plan, schedule, invoices and payments."""
        found = reading.get_subscription(current_mill(), subscription_id, actor=CLI_ACTOR)
        if as_json:
            _echo_json(found)
            return
        click.echo(_line(found))
        for when in found["schedule"]:
            click.echo(f"  due {when[:10]}")

    @subscriptions.command("start")
    @click.argument("number")
    @click.option("--interval", default=None, help='"1 month", "2 weeks", "monthly"...')
    @click.option("--count", type=click.IntRange(1, 1000), default=None,
                  help="Payments in all, the first included (default: open-ended, or the "
                       "invoice plan's number of parts).")
    def start(number: str, interval: str | None, count: int | None) -> None:
        """Start the subscription of a paid order (an instalment plan, or by hand)."""
        sub = engine.create(current_mill(), number, actor=CLI_ACTOR, interval=interval,
                            count=count)
        click.echo(_("Subscription %(id)s started for order %(number)s.", id=sub.id,
                     number=number))

    for name in engine.ACTIONS:
        _add_action(subscriptions, name)

    @subscriptions.command("run")
    def run() -> None:
        """Run one scheduler pass now: due invoices made, due debits queued for the worker."""
        done = scheduler.run_pass(current_mill())
        click.echo(_("%(invoiced)s invoice(s) made, %(queued)s debit(s) queued.",
                     invoiced=done["invoiced"], queued=done["queued"]))

    @subscriptions.command("schedule")
    def schedule() -> None:
        """Queue the scheduler job; `ordermill worker` keeps it running from then on."""
        queued = scheduler.ensure_tick(current_mill(), utcnow())
        click.echo(_("Scheduler queued.") if queued
                   else _("Nothing to schedule (or already queued)."))


def _add_action(group: click.Group, name: str) -> None:
    helps = {"suspend": "Pause an Active subscription.",
             "resume": "Resume a Suspended subscription (a due debit runs on the next pass).",
             "complete": "Finish a subscription early: nothing more is billed.",
             "retry": "Debit the open invoice now (a Failed subscription gets one more try)."}

    @group.command(name, help=helps[name])
    @click.argument("subscription_id", type=int)
    def command(subscription_id: int) -> None:
        sub = engine.act(current_mill(), subscription_id, name, actor=CLI_ACTOR)
        click.echo(_("Subscription %(id)s is now %(status)s.", id=sub.id, status=sub.status))
