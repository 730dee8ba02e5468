"""Staff users and their API tokens: `user create`, `user password`, `token create`.

`user password` is for the operator of the machine (a forgotten password, a leaked one): no
current password is asked, and every browser session of the user ends, so whoever held one is
logged out.
"""

from __future__ import annotations

import click

from ordermill.cli.common import STAFF_ROLES, get_mill
from ordermill.core.i18n import gettext as _


@click.group()
def user() -> None:
    """Staff users of the admin."""


@click.command("password")
@click.option("--email", required=True, help="The staff user's login e-mail.")
@click.option("--password", default=None,
              help="The new password; prompted (hidden, twice) when not given, which keeps "
                   "it out of the shell history.")
def user_password(email: str, password: str | None) -> None:
    """Set a staff user's password; all of their sessions are logged out."""
    from ordermill.core.staff import set_password

    mill = get_mill()
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    changed = set_password(mill, email, password or "")
    click.echo(_("Password of %(changed)s changed; their sessions were logged out.",
                 changed=changed))


user.add_command(user_password)


@user.command("create")
@click.option("--email", required=True, help="Login e-mail.")
@click.option("--name", default=None, help="Display name (default: the e-mail).")
@click.option("--role", type=click.Choice(STAFF_ROLES), default="admin", show_default=True)
@click.option("--password", default=None, help="Prompted (hidden, twice) when not given.")
def user_create(email: str, name: str | None, role: str, password: str | None) -> None:
    """Create a staff user."""
    from ordermill.core.staff import create_user

    mill = get_mill()
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = create_user(mill, email=email, name=name or email, role=role,
                          password=password or "")
    click.echo(_("Created %(role)s %(email)s.", role=role, email=created.email))


@click.group()
def token() -> None:
    """API tokens of staff users."""


@token.command("create")
@click.option("--email", required=True, help="The staff user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'warehouse sync'.")
def token_create(email: str, name: str) -> None:
    """Create an API token; it is printed once and only its hash is stored."""
    from ordermill.core.staff import create_token

    value = create_token(get_mill(), email=email, name=name)
    click.echo(value)
    click.echo(_("Store this token now: it cannot be shown again."), err=True)
