"""`ordermill sales ...` (the `register_commands` hook), acting as the system actor "cli".

    ordermill sales show NUMBER [--json]                      the sale and its confirmation
    ordermill sales confirm NUMBER [--manager EMAIL|system]   check and confirm the sale
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from ordermill.api import Actor, InvalidInput, StaffUser, current_mill, format_datetime
from ordermill.plugins.sales_managers import confirming
from ordermill.plugins.sales_managers.i18n import _

CLI_ACTOR = Actor.system("cli")


def _manager_id(email: str) -> int | None:
    if email == confirming.SYSTEM:
        return None
    with current_mill().read_session() as session:
        found = session.scalar(select(StaffUser.id).where(StaffUser.email == email.lower()))
    if found is None:
        raise InvalidInput(_("No staff member with e-mail %(email)s.", email=email),
                           details={"field": "manager"})
    return found


def _line(state: confirming.SaleState) -> str:
    if not state.confirmed:
        return _("%(number)s  %(manager)s  unconfirmed", number=state.number,
                 manager=state.sales_manager)
    return _("%(number)s  %(manager)s  confirmed by %(by)s on %(when)s", number=state.number,
             manager=state.sales_manager, by=state.confirmed_by,
             when=format_datetime(state.confirmed_at, "short"))


def add_commands(cli: click.Group) -> None:
    @cli.group("sales")
    def sales() -> None:
        """Sales managers: check and confirm who made a sale."""

    @sales.command("show")
    @click.argument("number")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def show(number: str, as_json: bool) -> None:
        """Show the order's sales manager and whether the sale is confirmed."""
        state = confirming.sale_state(current_mill(), number, actor=CLI_ACTOR)
        click.echo(json.dumps(state.to_dict()) if as_json else _line(state))

    @sales.command("confirm")
    @click.argument("number")
    @click.option("--manager", default=None,
                  help="E-mail of the staff member to attribute the sale to, or 'system'.")
    @click.option("--comment", default=None, help="A note stored with the event.")
    def confirm(number: str, manager: str | None, comment: str | None) -> None:
        """Check and confirm the sale (optionally changing its sales manager)."""
        chosen = confirming.KEEP if manager is None else _manager_id(manager)
        state = confirming.confirm_sale(current_mill(), number, actor=CLI_ACTOR,
                                        manager_id=chosen, comment=comment)
        click.echo(_line(state))


__all__ = ["add_commands"]
