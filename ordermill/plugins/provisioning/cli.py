"""The plugin's commands on the `ordermill` command line (the `register_commands` hook).

    ordermill provisioning servers [--module M] [--json]   the server registry
    ordermill provisioning modules [--json]                installed modules and registrars
    ordermill provisioning services NUMBER [--json]        an order's services
    ordermill provisioning run NUMBER LINE_ID COMMAND      create (retry), suspend, ...
    ordermill tickets list NUMBER [--json]                 an order's e-tickets
    ordermill tickets check-in CODE                        admit a ticket, exactly once

They act as the system actor "cli", like the core's order commands, through the same
functions as the API (so the order's history says where a command came from), and exist
only where the provisioning plugin is loaded. A refusal prints one line and exits with 1.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ordermill.api import Actor, current_mill
from ordermill.plugins.provisioning import commands, etickets, registry, servers
from ordermill.plugins.provisioning.i18n import _
from ordermill.plugins.provisioning.specs import COMMANDS

CLI_ACTOR = Actor.system("cli")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def add_commands(cli: click.Group) -> None:
    """Add the `provisioning` and `tickets` groups to `cli`."""

    @cli.group("provisioning")
    def provisioning() -> None:
        """Servers, modules and module commands (WHMCS module buttons)."""

    @provisioning.command("servers")
    @click.option("--module", "module", default=None, help="Only servers of this module.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def list_servers(module: str | None, as_json: bool) -> None:
        """List the server registry (credential keys, never their values)."""
        found = servers.list_servers(current_mill(), actor=CLI_ACTOR, module=module)
        if as_json:
            _echo_json({"servers": found})
            return
        if not found:
            click.echo(_("No servers."))
        for server in found:
            capacity = server["capacity"] if server["capacity"] is not None else "no limit"
            click.echo(f"{server['id']}  {server['name']}  {server['module']}  "
                       f"{server['hostname']}  {server['live_services']}/{capacity} live"
                       f"{'' if server['active'] else '  (inactive)'}")

    @provisioning.command("modules")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def list_modules(as_json: bool) -> None:
        """List the installed provisioning modules and registrars."""
        rows = registry.describe(current_mill())
        if as_json:
            _echo_json({"modules": rows})
            return
        for row in rows:
            click.echo(f"{row['name']}  {row['type']}  {row['label']}  "
                       f"({', '.join(row['commands'])})")

    @provisioning.command("services")
    @click.argument("number")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def list_services(number: str, as_json: bool) -> None:
        """List an order's services (never their passwords)."""
        found = commands.services_of(current_mill(), number, actor=CLI_ACTOR)
        if as_json:
            _echo_json({"services": found})
            return
        if not found:
            click.echo(_("Order %(number)s has no services.", number=number))
        for service in found:
            error = f"  ({service['last_error']})" if service["last_error"] else ""
            click.echo(f"line {service['line_id']}  {service['kind']}  {service['module']}  "
                       f"{service['status']}{error}")

    @provisioning.command("run")
    @click.argument("number")
    @click.argument("line_id", type=int)
    @click.argument("command", type=click.Choice(COMMANDS))
    def run(number: str, line_id: int, command: str) -> None:
        """Run a module command on one line: create (or retry a failed create), suspend,
        unsuspend or terminate. Remote modules run in the worker."""
        service = commands.request_command(current_mill(), number, line_id, command,
                                           actor=CLI_ACTOR)
        if service["pending_command"]:
            click.echo(_("%(command)s of line %(line)s of order %(number)s: service %(id)s is "
                         "%(status)s, %(pending)s queued.", command=command.title(),
                         line=line_id, number=number, id=service["id"],
                         status=service["status"], pending=service["pending_command"]))
        else:
            click.echo(_("%(command)s of line %(line)s of order %(number)s: service %(id)s is "
                         "%(status)s.", command=command.title(), line=line_id, number=number,
                         id=service["id"], status=service["status"]))

    @cli.group("tickets")
    def tickets() -> None:
        """E-tickets: list an order's tickets, check a ticket in at the door."""

    @tickets.command("list")
    @click.argument("number")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def list_tickets(number: str, as_json: bool) -> None:
        """List an order's tickets (void ones too)."""
        found = [etickets.ticket_to_dict(ticket)
                 for ticket in etickets.tickets_of(current_mill(), number, actor=CLI_ACTOR)]
        if as_json:
            _echo_json({"tickets": found})
            return
        if not found:
            click.echo(_("Order %(number)s has no tickets.", number=number))
        for ticket in found:
            click.echo(f"{ticket['code']}  {ticket['status']}  {ticket['attendee']}  "
                       f"{ticket['event']}")

    @tickets.command("check-in")
    @click.argument("code")
    def check_in(code: str) -> None:
        """Admit a ticket: the first check-in of a valid code wins, any later one is
        refused with the reason."""
        ticket = etickets.check_in(current_mill(), code, actor=CLI_ACTOR)
        click.echo(_("Ticket %(code)s (%(attendee)s, %(event)s) checked in.",
                     code=ticket["code"], attendee=ticket["attendee"], event=ticket["event"]))


__all__ = ["CLI_ACTOR", "add_commands"]
