"""What is installed: `plugins` (loaded and failed) and `statuses` (the status registry)."""

from __future__ import annotations

import attrs
import click
from rich.markup import escape
from rich.table import Table

from ordermill.cli.common import _console, _echo_json, get_mill
from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.i18n import gettext as _


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def plugins(as_json: bool) -> None:
    """List loaded plugins (name, version, where from, hooks) and plugins that failed."""
    mill = get_mill()
    infos = mill.plugins.plugin_infos()
    failures = list(mill.plugins.failures)
    errors = spec_errors(mill)
    if as_json:
        _echo_json({"plugins": [info.to_dict() for info in infos],
                    "failures": [attrs.asdict(failure) for failure in failures],
                    "errors": errors})
        if errors:
            raise SystemExit(1)
        return
    table = Table(title="Plugins")
    for column in ("Name", "Version", "Source", "Hooks"):
        table.add_column(column, no_wrap=column != "Hooks")
    for info in infos:
        source = f"{info.source} ({info.distribution})" if info.distribution else info.source
        table.add_row(info.name, info.version or "", source, ", ".join(info.hooks))
    console = _console()
    console.print(table)
    for failure in failures:
        console.print(f"[red]Failed to load[/red] {failure.name} "
                      f"({failure.distribution or 'unknown distribution'}): {failure.error}")
    for error in errors:
        console.print(_("[red]Error:[/red] %(value)s", value=escape(error)))
    if errors:
        raise SystemExit(1)


def spec_errors(mill: Ordermill) -> list[str]:
    """What a loaded plugin gives that start-up would refuse (a gateway callable of the
    wrong signature), so `ordermill plugins` fails where `serve` would."""
    try:
        mill.gateways  # noqa: B018
    except OrdermillError as error:
        return [error.message]
    return []


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def statuses(as_json: bool) -> None:
    """Show the status registry: categories and allowed moves (defaults and custom)."""
    mill = get_mill()
    registry = mill.statuses
    rows = [{"name": spec.name, "label": spec.label, "category": spec.category,
             "transitions": sorted(registry.targets(spec.name)),
             "owner": registry.owner(spec.name), "description": spec.description}
            for spec in registry]
    if as_json:
        _echo_json(rows)
        return
    table = Table(title="Order statuses")
    for column in ("Status", "Label", "Category", "May move to", "Defined by", "Description"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["label"], row["category"],
                      ", ".join(row["transitions"]) or "(final)", row["owner"],
                      row["description"])
    _console().print(table)
