"""`ordermill user password`: set a staff user's password from the shell.

For the operator of the machine (a forgotten password, a leaked one): no current password
is asked, and every browser session of the user ends, so whoever held one is logged out.
Kept out of cli.py (already long); cli.py only registers it on its `user` group.
"""

from __future__ import annotations

import click


@click.command("password")
@click.option("--email", required=True, help="The staff user's login e-mail.")
@click.option("--password", default=None,
              help="The new password; prompted (hidden, twice) when not given, which keeps "
                   "it out of the shell history.")
def user_password(email: str, password: str | None) -> None:
    """Set a staff user's password; all of their sessions are logged out."""
    from ordermill.cli import get_mill  # cli.py imports this module: look up at call time
    from ordermill.core.staff import set_password

    mill = get_mill()
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    changed = set_password(mill, email, password or "")
    click.echo(f"Password of {changed} changed; their sessions were logged out.")
