"""`ordermill product ...`, `ordermill stock adjust` and `ordermill promo ...`: the catalogue
through the core's catalogue actions, as the system actor "cli" (the history says so)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ordermill.cli.common import CLI_ACTOR, _console, _echo_json, _fail, cli_when, get_mill
from ordermill.core.catalogue.csv_import import CSV_COLUMNS
from ordermill.core.catalogue.product_input import KINDS
from ordermill.core.catalogue_models import ADJUSTMENT_REASONS
from ordermill.core.i18n import gettext as _
from ordermill.core.models import TAX_CLASSES

PAIR_HELP = "CUR=AMOUNT, e.g. USD=14.00; repeat for more currencies."


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    result = {}
    for value in values:
        code, sep, amount = value.partition("=")
        if not sep:
            _fail(_("%(option)s %(value)s: write it as CUR=AMOUNT, e.g. USD=14.00.",
                    option=option, value=repr(value)))
        result[code.strip().upper()] = amount.strip()
    return result


def _product_options(required: bool) -> Any:
    """The product fields as options; only the options given are sent (edit changes those)."""
    options = [
        click.option("--name", required=required, help="What the product is called."),
        click.option("--price", required=required, help="Decimal, e.g. 12.50."),
        click.option("--currency", help="ISO code; default the shop's."),
        click.option("--price-in", "prices", multiple=True, help=PAIR_HELP),
        click.option("--kind", type=click.Choice(KINDS)),
        click.option("--category"),
        click.option("--stock", help="Units for sale, or 'unlimited'."),
        click.option("--low-stock", "low_stock_threshold", type=click.IntRange(0),
                     help="Flag the product in the admin at or below this stock."),
        click.option("--tax-class", type=click.Choice(TAX_CLASSES)),
        click.option("--billing-cycle"),
        click.option("--provisioning-module"),
        click.option("--event-date", help="Tickets: ISO date or date-time."),
        click.option("--venue", help="Tickets: where the event is."),
        click.option("--image-url"),
        click.option("--dry-run", is_flag=True, help="Show what would change; save nothing."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts."),
    ]

    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _product_data(values: Mapping[str, Any]) -> dict[str, Any]:
    data = {name: value for name, value in values.items()
            if value is not None and name not in ("prices", "dry_run", "as_json", "sku")}
    if values.get("prices"):
        data["prices"] = _pairs(values["prices"], "--price-in")
    return data


def _print_product(data: Mapping[str, Any], as_json: bool, prefix: str = "") -> None:
    if as_json:
        _echo_json(data)
        return
    if data.get("message"):
        click.echo(prefix + data["message"])
    prices = ", ".join(f"{amount} {code}" for code, amount in data["prices"].items())
    stock = "unlimited" if data["stock"] is None else str(data["stock"])
    low = " (low stock)" if data.get("low_stock") else ""
    click.echo(f"{prefix}{data['sku']}: {data['name']} [{data['kind']}] {prices}; stock "
               f"{stock}{low}; tax {data['tax_class']}"
               + ("" if data["active"] else "; archived"))


@click.group()
def product() -> None:
    """List, add, edit, archive, import and export products (as the system user 'cli')."""


@product.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived products.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def product_list(include_archived: bool, as_json: bool) -> None:
    """List products by sku, with stock and a low-stock flag."""
    rows = [row for row in get_mill().catalogue.csv.export_rows(actor=CLI_ACTOR)
            if include_archived or row["active"] == "true"]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(_("No products."))
        return
    table = Table()
    for column in ("SKU", "Name", "Kind", "Category", "Price", "Stock", "Active"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["sku"], row["name"], row["kind"], row["category"],
                      f"{row['price']} {row['currency']}", str(row["stock"]), row["active"])
    _console().print(table)


@product.command("show")
@click.argument("sku")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def product_show(sku: str, as_json: bool) -> None:
    """Show a product with its history and latest stock movements."""
    data = get_mill().catalogue.products.get(sku, actor=CLI_ACTOR)
    _print_product(data, as_json)
    if not as_json:
        for event in data["history"]:
            click.echo(f"  {cli_when(event['created_at'])} {event['actor']}: {event['message']}")


@product.command("add")
@click.argument("sku")
@_product_options(required=True)
def product_add(sku: str, dry_run: bool, as_json: bool, **values: Any) -> None:
    """Create a product."""
    data = {"sku": sku, **_product_data(values)}
    result = get_mill().catalogue.products.create(data, actor=CLI_ACTOR, dry_run=dry_run)
    _print_product(result, as_json, "Dry run, nothing saved: " if dry_run else "Created ")


@product.command("edit")
@click.argument("sku")
@_product_options(required=False)
def product_edit(sku: str, dry_run: bool, as_json: bool, **values: Any) -> None:
    """Change the given fields of a product (a new --stock is recorded as a count)."""
    data = _product_data(values)
    if not data:
        _fail(_("Nothing to change: give at least one option (see --help)."))
    result = get_mill().catalogue.products.update(sku, data, actor=CLI_ACTOR, dry_run=dry_run)
    _print_product(result, as_json, "Dry run, nothing saved: " if dry_run else "")


@product.command("archive")
@click.argument("sku")
@click.option("--dry-run", is_flag=True)
def product_archive(sku: str, dry_run: bool) -> None:
    """Stop selling a product; orders that have it keep it."""
    result = get_mill().catalogue.products.archive(sku, actor=CLI_ACTOR, dry_run=dry_run)
    click.echo(("Dry run, nothing saved: " if dry_run else "") + result["message"])


@product.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would happen; save nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def product_import(path: Path, dry_run: bool, as_json: bool) -> None:
    """Import products from a CSV file (columns as `product export` writes them); the
    stock column is absolute. Run with --dry-run first to see what changes."""
    report = get_mill().catalogue.csv.import_csv(path.read_text(encoding="utf-8-sig"),
                                                 actor=CLI_ACTOR, dry_run=dry_run)
    if as_json:
        _echo_json(report)
        return
    for row in report["rows"]:
        detail = row.get("reason") or ", ".join(
            f"{name} {before} -> {after}" for name, (before, after) in
            row.get("changes", {}).items() if name in CSV_COLUMNS)
        click.echo(f"row {row['row']} {row['sku'] or '-'}: {row['action']}"
                   + (f" ({detail})" if detail else ""))
    counts = report["counts"]
    click.echo(("Dry run, nothing saved: " if dry_run else "")
               + ", ".join(f"{counts[k]} {k}" for k in counts) + ".")


@product.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def product_export(path: Path | None) -> None:
    """Write every product as CSV (to PATH, or to the screen); import reads it back."""
    text = get_mill().catalogue.csv.export_csv(actor=CLI_ACTOR)
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(_("Wrote %(value)s product(s) to %(path)s.",
                     value=text.count(chr(10)) - 1, path=path))


@click.group()
def stock() -> None:
    """Adjust stock and read the stock ledger."""


@stock.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("sku")
@click.argument("change", required=False)
@click.option("--reason", type=click.Choice(ADJUSTMENT_REASONS),
              help="Why: received, counted or damaged.")
@click.option("--count", type=click.IntRange(0), help="An absolute count instead of +N/-N.")
@click.option("--note", help="A note kept on the ledger row.")
@click.option("--dry-run", is_flag=True)
def stock_adjust(sku: str, change: str | None, reason: str | None, count: int | None,
                 note: str | None, dry_run: bool) -> None:
    """Add (+N) or take (-N) units with a reason, or record a --count."""
    if change is None and count is None:
        _fail(_("Give a change such as +5 or -2, or --count N."))
    if change is not None and reason is None:
        _fail(_("Say why with --reason received, counted or damaged."))
    result = get_mill().catalogue.products.adjust_stock(
        sku, actor=CLI_ACTOR, change=change, count=count, reason=reason, note=note,
        dry_run=dry_run)
    click.echo(("Dry run, nothing saved: " if dry_run else "") + result["message"])


@stock.command("ledger")
@click.argument("sku")
@click.option("--json", "as_json", is_flag=True)
def stock_ledger(sku: str, as_json: bool) -> None:
    """Every movement of a product's stock, newest first."""
    data = get_mill().catalogue.products.ledger(sku, actor=CLI_ACTOR)
    if as_json:
        _echo_json(data)
        return
    click.echo(_("%(sku)s: stock %(stock)s, ledger total %(ledger_total)s",
                 sku=data['sku'], stock=data['stock'], ledger_total=data['ledger_total']))
    for row in data["movements"]:
        click.echo(f"  {cli_when(row['created_at'])} {row['kind']:<10} {row['change']:+d} "
                   f"{row['reason'] or ''} {row['order_number'] or ''}".rstrip())


@click.group()
def promo() -> None:
    """Add, list and disable promo codes."""


@promo.command("add")
@click.argument("code")
@click.option("--percent", help="Percent off, e.g. 10 or 12.5.")
@click.option("--amount", "amounts", multiple=True, help="Fixed amount off: " + PAIR_HELP)
@click.option("--valid-from", help="ISO date or date-time.")
@click.option("--valid-until", help="ISO date or date-time.")
@click.option("--limit", "usage_limit", type=int, help="Uses in total.")
@click.option("--per-customer", "per_customer_limit", type=int, help="Uses per customer.")
@click.option("--min-subtotal", multiple=True, help="Minimum subtotal: " + PAIR_HELP)
@click.option("--product", "products", multiple=True, help="Only for this sku (repeat).")
@click.option("--category", "categories", multiple=True, help="Only for this category.")
@click.option("--first-order-only", is_flag=True)
@click.option("--not-combinable", is_flag=True,
              help="Refuse the code on lines with a special price.")
@click.option("--dry-run", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def promo_add(code: str, percent: str | None, amounts: tuple[str, ...],
              min_subtotal: tuple[str, ...], products: tuple[str, ...],
              categories: tuple[str, ...], first_order_only: bool, not_combinable: bool,
              dry_run: bool, as_json: bool, **values: Any) -> None:
    """Create a promo code: --percent P, or --amount CUR=AMOUNT per currency."""
    if (percent is None) == (not amounts):
        _fail(_("Give either --percent or --amount."))
    data: dict[str, Any] = {"code": code, "kind": "percent" if percent else "fixed",
                            **{k: v for k, v in values.items() if v is not None}}
    if percent:
        data["percent"] = percent
    else:
        data["amounts"] = _pairs(amounts, "--amount")
    if min_subtotal:
        data["min_subtotal"] = _pairs(min_subtotal, "--min-subtotal")
    if products:
        data["products"] = list(products)
    if categories:
        data["categories"] = list(categories)
    data["first_order_only"] = first_order_only
    data["combinable"] = not not_combinable
    result = get_mill().catalogue.promos.create(data, actor=CLI_ACTOR, dry_run=dry_run)
    if as_json:
        _echo_json(result)
        return
    click.echo(("Dry run, nothing saved: " if dry_run else "Created ") + _promo_line(result))


def _promo_line(data: Mapping[str, Any]) -> str:
    value = (f"{data['percent']}% off" if data["kind"] == "percent" else
             ", ".join(f"{v} {c} off" for c, v in data["amounts"].items()))
    limit = f"{data['times_used']}/{data['usage_limit']}" if data["usage_limit"] \
        else str(data["times_used"])
    only = ", ".join([*data["products"], *data["categories"]])
    return (f"{data['code']}: {value}, used {limit}"
            + (f", only for {only}" if only else "")
            + (f", until {data['valid_until'][:10]}" if data["valid_until"] else "")
            + ("" if data["active"] else ", disabled"))


@promo.command("list")
@click.option("--json", "as_json", is_flag=True)
def promo_list(as_json: bool) -> None:
    """List promo codes with their rules and uses."""
    rows = get_mill().catalogue.promos.list(actor=CLI_ACTOR)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(_("No promo codes."))
    for row in rows:
        click.echo(_promo_line(row))


@promo.command("disable")
@click.argument("code")
def promo_disable(code: str) -> None:
    """Disable a promo code (orders that used it keep their discount)."""
    click.echo(get_mill().catalogue.promos.disable(code, actor=CLI_ACTOR)["message"])
