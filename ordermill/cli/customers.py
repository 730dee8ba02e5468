"""Customers from a shell: `customer list|show|merge|export|erase`, as the system user 'cli'
(the customer's history says so). The same core actions as the API and the admin."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ordermill.cli.common import CLI_ACTOR, _console, _echo_json, cli_when, get_mill
from ordermill.core import customers
from ordermill.core.customers import CUSTOMER_SORTS
from ordermill.core.i18n import gettext as _

SORTS = [*CUSTOMER_SORTS, *(f"-{name}" for name in CUSTOMER_SORTS)]
ERASE_PROMPT = ("Erase the personal data of customer {id} ({email}) for good? Orders, "
                "payments and totals stay; this cannot be undone")
MERGE_PROMPT = "Merge customer {merge} into customer {keep} and remove customer {merge}?"


@click.group()
def customer() -> None:
    """Customers: list, show, merge, export (access request) and erase (GDPR)."""


@customer.command("list")
@click.option("--search", default=None, help="Part of a name, e-mail or company, or an id.")
@click.option("--sort", type=click.Choice(SORTS), default="name", show_default=True)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def customer_list(search: str | None, sort: str, limit: int, as_json: bool) -> None:
    """List customers with their orders count, money spent and last order."""
    page = customers.search_customers(get_mill(), actor=CLI_ACTOR, q=search, sort=sort,
                                      per_page=limit)
    rows = [row.to_dict() for row in page.items]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(_("No customers match."))
        return
    table = Table()
    for column in ("Id", "Name", "E-mail", "Company", "Orders", "Spent", "Last order"):
        table.add_column(column, justify="right" if column in ("Id", "Orders") else "left")
    for row in rows:
        spent = ", ".join(f"{amount} {cur}" for cur, amount in row["total_spent"].items())
        table.add_row(str(row["id"]), row["name"] + (" (erased)" if row["erased"] else ""),
                      row["email"], row["company"] or "", str(row["orders_count"]),
                      spent or "-", cli_when(row["last_order_at"]) or "-")
    console = _console()
    console.print(table)
    console.print(_("%(value)s of %(total)s customer(s).", value=len(rows), total=page.total))


@customer.command("show")
@click.argument("customer_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def customer_show(customer_id: str, as_json: bool) -> None:
    """One customer: details, orders, payments, notes and history."""
    data = customers.customer_detail(get_mill(), customer_id, actor=CLI_ACTOR)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"Customer {data['id']}: {data['name']} <{data['email']}>"
               + (" (erased)" if data["erased"] else ""))
    for label, key in (("Company", "company"), ("Phone", "phone"), ("Language", "language")):
        if data.get(key):
            click.echo(f"  {label}: {data[key]}")
    spent = ", ".join(f"{amount} {cur}" for cur, amount in data["total_spent"].items())
    click.echo(_("  Orders: %(orders_count)s; spent: %(value)s",
                 orders_count=data['orders_count'], value=spent or '-'))
    for order in data["orders"]:
        click.echo(f"    {order['number']}  {order['placed_at'][:10]}  {order['status']:<10} "
                   f"{order['total']} {order['currency']}")
    for note in data["notes"]:
        click.echo(_("  Note (%(author)s): %(text)s", author=note['author'], text=note['text']))
    for event in data["history"][:10]:
        click.echo(f"  {cli_when(event['created_at'])}  {event['message']}")


@customer.command("merge")
@click.argument("keep_id")
@click.argument("merge_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def customer_merge(keep_id: str, merge_id: str, yes: bool) -> None:
    """Merge customer MERGE_ID into KEEP_ID: its orders, payments and notes move."""
    if not yes:
        click.confirm(MERGE_PROMPT.format(keep=keep_id, merge=merge_id), abort=True)
    result = customers.merge_customers(get_mill(), keep_id, merge_id, actor=CLI_ACTOR)
    click.echo(_("Merged customer %(merged_customer_id)s into %(kept_customer_id)s: %(value)s "
                 "order(s) and %(notes_moved)s note(s) moved.",
                 merged_customer_id=result['merged_customer_id'],
                 kept_customer_id=result['kept_customer_id'], value=len(result['orders_moved']),
                 notes_moved=result['notes_moved']))


@customer.command("export")
@click.argument("customer_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON to this file instead of printing it.")
def customer_export(customer_id: str, output: Path | None) -> None:
    """Everything ordermill holds about a customer, as JSON (access request)."""
    document = customers.export_customer(get_mill(), customer_id, actor=CLI_ACTOR)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(_("Wrote the data of customer %(id)s to %(output)s.",
                 id=document['customer']['id'], output=output))


@customer.command("erase")
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the erasure report as JSON.")
def customer_erase(customer_id: str, yes: bool, as_json: bool) -> None:
    """Erase a customer's personal data (GDPR article 17); invoices are retained."""
    mill = get_mill()
    if not yes:
        shown = customers.customer_detail(mill, customer_id, actor=CLI_ACTOR)
        click.confirm(ERASE_PROMPT.format(id=shown["id"], email=shown["email"]), abort=True)
    report = customers.erase_customer(mill, customer_id, actor=CLI_ACTOR)
    if as_json:
        _echo_json(report)
        return
    retained = report["retained"]
    click.echo(_("Erased customer %(customer_id)s: now %(pseudonym)s, %(value)s order(s) "
                 "pseudonymised.", customer_id=report['customer_id'], pseudonym=report['pseudonym'],
                 value=len(report['orders'])))
    click.echo(f"{retained['note']} Retention: {retained['retention_years']} years"
               + (f", until {retained['retained_until']}" if retained["retained_until"]
                  else "") + f" ({retained['invoices']} invoice(s)).")
