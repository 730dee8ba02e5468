"""The `ordermill` command line: set up, run, inspect and act on orders from a shell.

A shop owner's first contact is `ordermill serve --demo`; operators need `init`, `worker` and
`plugins`; support staff sometimes fix an order without the admin (`ordermill order refund`).
Order commands call the very same core actions as the API and the admin, as the system actor
"cli", so the history says where each change came from. Core errors print as one clear line
and exit with code 1: a shell user never sees a traceback for a refused action.

Settings come from the environment (ORDERMILL_DATABASE_URL, ORDERMILL_INSTANCE_PATH, ...),
read when a command first needs the app.

The root group `main` is declared here (the console script `ordermill = "ordermill.cli:main"`);
the commands live in one module per area and are added to it below:

* common.py: the app per command, one-line errors, the action report, signals
* serving.py: init, demo, serve, worker
* registries.py: plugins, statuses
* staff.py: user create / password, token create
* orders.py: order list / show / accept / cancel / refund / ...
* customers.py: customer list / show / merge / export / erase
* outbox.py: outbox list / retry / retry-dead
* secrets.py: secrets new-key / rotate, and the key check serve and worker run at start-up
* scaffold.py: new-plugin (a plugin distribution to start from; scaffold_templates.py)
"""

from __future__ import annotations

import logging

import click

from ordermill import __version__
from ordermill.cli import catalogue, customers, orders, outbox, registries, scaffold, serving, staff
from ordermill.cli.common import (
    CLI_ACTOR,
    PIPED_WIDTH,
    STAFF_ROLES,
    _console,
    _echo_json,
    _fail,
    _OrdermillGroup,
    _report,
    _safe_url,
    get_mill,
)
from ordermill.cli.secrets import secrets_group, startup_checks
from ordermill.cli_plugins import with_plugin_commands


@click.group(cls=with_plugin_commands(_OrdermillGroup))
@click.version_option(__version__, prog_name="ordermill")
def main() -> None:
    """ordermill: a plugin-based order desk.

    Configure with environment variables: ORDERMILL_DATABASE_URL (default: a SQLite file in
    ./instance/), ORDERMILL_INSTANCE_PATH, ORDERMILL_LOAD_PLUGINS, ... (see the README).
    """
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _command in (serving.init, serving.demo, serving.serve, serving.worker,
                 registries.plugins, registries.statuses, staff.user, staff.token,
                 orders.order, customers.customer, outbox.outbox, secrets_group,
                 scaffold.new_plugin, catalogue.product, catalogue.stock, catalogue.promo):
    main.add_command(_command)


__all__ = ["CLI_ACTOR", "PIPED_WIDTH", "STAFF_ROLES", "_console", "_echo_json", "_fail",
           "_report", "_safe_url", "get_mill", "main", "startup_checks"]


if __name__ == "__main__":  # pragma: no cover
    main()
