"""`ordermill report ...` (the `register_commands` hook): every report on the command line.

    ordermill report list
    ordermill report rebuild      # refill the summary tables from every order and payment
    ordermill report NAME [--from D] [--to D] [--currency C] [--gateway G] [--sort COL]
                          [--csv | --json]

NAME is payments, products, categories or managers (the last with a plugin that confirms
sales). Reports read the plugin's summary tables; `--exact` runs the live query over the
orders instead (the reference, slow on a large shop). Acts as the system actor "cli"; bad
input prints one line and exits with 1.
"""

from __future__ import annotations

import json

import click

from ordermill.api import Actor, current_mill
from ordermill.api import gettext as _
from ordermill.plugins.reports import csvout, service
from ordermill.plugins.reports.definitions import parse_filters

CLI_ACTOR = Actor.system("cli")


def _table(result: service.ReportResult) -> str:
    columns = result.report.columns
    shown = [service.text_row(result.report, row) for row in [*result.rows, *result.totals]]
    header = [column.label for column in columns]
    cells = [[str(row[column.name]) for column in columns] for row in shown]
    widths = [max(len(text) for text in [label, *(row[i] for row in cells)])
              for i, label in enumerate(header)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True))]
    lines += ["  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True))
              for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def add_commands(cli: click.Group) -> None:
    @cli.command("report")
    @click.argument("name")
    @click.option("--from", "date_from", default=None, help="First day (YYYY-MM-DD, UTC).")
    @click.option("--to", "date_to", default=None, help="Last day (YYYY-MM-DD, UTC).")
    @click.option("--currency", default=None, help="Only this currency.")
    @click.option("--gateway", default=None, help="Only this payment system.")
    @click.option("--sort", default=None, help="A column; prefix - for descending.")
    @click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @click.option("--exact", is_flag=True,
                  help="Compute from the orders themselves, not the summary tables.")
    def report(name: str, date_from: str | None, date_to: str | None, currency: str | None,
               gateway: str | None, sort: str | None, as_csv: bool, as_json: bool,
               exact: bool) -> None:
        """Print a report: payments, products, categories, managers (or `list`, `rebuild`)."""
        mill = current_mill()
        if name == "list":
            for offered in service.available(mill):
                click.echo(f"{offered.name}  {offered.title}")
            return
        if name == "rebuild":
            counts = service.rebuild_summary(mill, actor=CLI_ACTOR)
            click.echo(_("Summary tables rebuilt: %(lines)s line rows, %(money)s money rows.",
                         lines=counts["report_line"], money=counts["report_money"]))
            return
        filters = parse_filters({"from": date_from, "to": date_to, "currency": currency,
                                 "gateway": gateway})
        result = service.run_report(mill, name, filters, actor=CLI_ACTOR, sort=sort,
                                    exact=exact)
        if as_json:
            click.echo(json.dumps(result.as_text(), indent=2))
        elif as_csv:
            click.echo(csvout.report_csv(result), nl=False)
        else:
            click.echo(_table(result))


__all__ = ["add_commands"]
