"""`ordermill order ...`: look at orders and act on them through the core actions, as the
system actor "cli", so the history says where each change came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ordermill.cli.common import (
    CLI_ACTOR,
    _console,
    _echo_json,
    _report,
    cli_english,
    cli_money,
    cli_when,
    cli_zone,
    get_mill,
)
from ordermill.core.app import Ordermill
from ordermill.core.i18n import N_, ngettext
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import gateway_label, status_label, summary_label
from ordermill.core.models import Order
from ordermill.core.money import Money
from ordermill.core.serialize import money_text
from ordermill.core.statuses import line_summary, payment_status


@click.group()
def order() -> None:
    """Look at orders and act on them (as the system user 'cli')."""


def _order_row(item: Order) -> dict[str, Any]:
    return {
        "number": item.number, "placed_at": item.placed_at.isoformat(),
        "buyer_name": item.buyer_name, "buyer_email": item.buyer_email,
        "status": item.status, "payment_status": payment_status(item),
        "summary": line_summary(item), "quantity": sum(line.quantity for line in item.lines),
        "total": money_text(item.total, item.currency), "currency": item.currency,
        "payment_method": item.payment_method, "promo_code": item.promo_code,
        "needs_attention": item.needs_attention,
    }


@order.command("list")
@click.option("--status", default=None, help="Only orders in this status.")
@click.option("--search", default=None, help="Part of the number, buyer name or e-mail.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def order_list(status: str | None, search: str | None, limit: int, as_json: bool) -> None:
    """List orders, newest first."""
    mill = get_mill()
    query = (select(Order).options(selectinload(Order.lines), selectinload(Order.payments),
                     selectinload(Order.invoices))
             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit))
    if status:
        mill.statuses.get(status)  # an unknown status is an error, not an empty list
        query = query.where(Order.status == status)
    if search and search.strip():
        term = search.strip().lower()
        query = query.where(or_(
            Order.number.contains(term, autoescape=True),
            func.lower(Order.buyer_name).contains(term, autoescape=True),
            func.lower(Order.buyer_email).contains(term, autoescape=True),
        ))
    with mill.read_session() as session:
        rows = [_order_row(item) for item in session.scalars(query)]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(_("No orders match."))
        return
    mill = get_mill()
    table = Table()
    for key, column in (("number", _("Number")), ("placed", _("Placed")), ("buyer", _("Buyer")),
                        ("status", _("Status")), ("payment", _("Payment")),
                        ("summary", _("Summary")), ("qty", _("Qty")), ("total", _("Total")),
                        ("method", _("Method")), ("promo", _("Promo"))):
        table.add_column(column, no_wrap=key in ("number", "placed", "total"),
                         justify="right" if key in ("qty", "total") else "left")
    for row in rows:
        flag = " [red]![/red]" if row["needs_attention"] else ""
        table.add_row(row["number"] + flag, cli_when(row["placed_at"]),
                      row["buyer_name"], _status(mill, row["status"]),
                      _payment(row["payment_status"]), _summary(row["summary"]),
                      str(row["quantity"]), cli_money(row["total"], row["currency"]),
                      row["payment_method"] if cli_english()
                      else gateway_label(mill, row["payment_method"]), row["promo_code"] or "")
    console = _console()
    console.print(table)
    console.print(ngettext("%(num)s order%(limit)s.", "%(num)s orders%(limit)s.",
                           len(rows), limit=_(" (limit reached)") if len(rows) == limit else ""))


def _status(mill: Ordermill, name: str) -> str:
    """The status as scripts always saw it in English ('pending'), its label otherwise."""
    return name if cli_english() else status_label(mill, name)


PAYMENT_STATUSES = {"unpaid": N_("Unpaid"), "partially_paid": N_("Partially paid"),
                    "paid": N_("Paid"), "partially_refunded": N_("Partially refunded"),
                    "refunded": N_("Refunded"), "overpaid": N_("Overpaid")}


def _summary(text: str) -> str:
    return text if cli_english() else summary_label(text)


def _payment(name: str) -> str:
    label = PAYMENT_STATUSES.get(name)
    return name if cli_english() or label is None else _(label)


@order.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def order_show(number: str, as_json: bool) -> None:
    """Show one order with lines, invoices, payments and history."""
    data = get_mill().orders.describe(number)
    if as_json:
        _echo_json(data)
        return
    _print_order(data)


def _print_order(data: Mapping[str, Any]) -> None:
    console = _console()
    mill = get_mill()
    currency = data["currency"]
    buyer = data["buyer"]

    def money(key: str, code: bool = False) -> str:
        return cli_money(data[key], currency, code=code)

    console.print(_("[bold]Order %(number)s[/bold]  %(status)s | %(payment)s | %(summary)s  "
                    "(version %(version)s)", number=data["number"],
                    status=_status(mill, data["status"]),
                    payment=_payment(data["payment_status"]), summary=_summary(data["summary"]),
                    version=data["version"]))
    console.print(_("Buyer: %(name)s <%(email)s>", name=buyer["name"], email=buyer["email"])
                  + (f", {buyer['phone']}" if buyer.get("phone") else ""))
    placed = _("Placed %(when)s %(zone)s, payment by %(method)s",
               when=cli_when(data["placed_at"]), zone=cli_zone(),
               method=data["payment_method"] if cli_english()
               else gateway_label(mill, data["payment_method"]))
    if data.get("promo_code"):
        placed = _("%(placed)s, promo %(code)s", placed=placed, code=data["promo_code"])
    console.print(placed)
    console.print(_("Total %(total)s (subtotal %(subtotal)s, discount %(discount)s, fees "
                    "%(fees)s, tax %(tax)s); captured %(captured)s, refunded %(refunded)s, due "
                    "%(due)s", total=money("total", code=True), subtotal=money("subtotal"),
                    discount=money("discount"), fees=money("fee_total"),
                    tax=money("tax_total"), captured=money("captured"),
                    refunded=money("refunded"), due=money("amount_due")))
    for key, label in (("accepted_at", _("Accepted")), ("dispatched_at", _("Dispatched")),
                       ("delivered_at", _("Delivered")), ("cancelled_at", _("Cancelled"))):
        if data.get(key):
            console.print(_("%(what)s: %(when)s %(zone)s", what=label,
                            when=cli_when(data[key]), zone=cli_zone()))
    if data.get("customer_note"):
        console.print(_("Customer note: %(note)s", note=data["customer_note"]))
    if data.get("needs_attention"):
        console.print(_("[red]Needs attention:[/red] %(reasons)s",
                        reasons=data["needs_attention"]))

    lines = Table(title=_("Lines"), title_justify="left")
    for key, column in (("id", _("ID")), ("product", _("Product")), ("qty", _("Qty")),
                        ("unit", _("Unit")), ("discount", _("Discount")), ("total", _("Total")),
                        ("status", _("Status")), ("refunded", _("Refunded")),
                        ("details", _("Details"))):
        lines.add_column(column, justify="right" if key in ("id", "qty", "unit", "discount",
                                                             "total", "refunded") else "left")
    for line in data["lines"]:
        details = [text for text in (
            line.get("attendee"), line.get("domain"), line.get("billing_cycle"),
            _("provisioning %(status)s", status=line["provisioning_status"])
            if line.get("provisioning_status") else None) if text]
        lines.add_row(str(line["id"]), f"{line['name']} ({line['sku']})", str(line["quantity"]),
                      cli_money(line["unit_price"], currency, code=False),
                      cli_money(line["discount"], currency, code=False),
                      cli_money(line["total"], currency, code=False),
                      line["status"] if cli_english() else _(LINE_STATUS_LABELS.get(
                          line["status"], line["status"])),
                      cli_money(line["refunded"], currency, code=False), ", ".join(details))
    console.print(lines)
    _print_rows(console, _("Invoices"), data["invoices"],
                ((_("ID"), "id"), (_("Amount"), "amount"), (_("Status"), "status"),
                 (_("Description"), "description"), (_("Paid"), "paid_at")), currency)
    _print_rows(console, _("Payments"), data["payments"],
                ((_("ID"), "id"), (_("Kind"), "kind"), (_("Status"), "status"),
                 (_("Gateway"), "gateway"), (_("Amount"), "amount"), (_("Fee"), "fee"),
                 (_("Net"), "net"), (_("Reference"), "gateway_reference"),
                 (_("When"), "created_at")), currency)
    history = Table(title=_("History"), title_justify="left")
    for column in (_("When"), _("Who"), _("What"), _("Message")):
        history.add_column(column)
    for event in data.get("history", []):
        message = event["message"]
        if event.get("comment"):
            message += f"\n[italic]{event['comment']}[/italic]"
            if event.get("notify_customer"):
                message += _(" (customer notified)")
        history.add_row(cli_when(event["created_at"]), event["actor"], event["type"], message)
    console.print(history)


# the invoice and payment words `order show` prints (data in English, shown translated)
ROW_WORDS = {"draft": N_("Draft"), "issued": N_("Issued"), "unpaid": N_("Unpaid"),
             "paid": N_("Paid"), "cancelled": N_("Cancelled"), "refunded": N_("Refunded"),
             "charge": N_("Charge"), "refund": N_("Refund"), "succeeded": N_("Succeeded"),
             "pending": N_("Pending"), "failed": N_("Failed"), "Order": N_("Order")}
LINE_STATUS_LABELS = {"active": N_("Active"), "cancelled": N_("Cancelled"),
                      "refunded": N_("Refunded")}


def _print_rows(console: Console, title: str, rows: Sequence[Mapping[str, Any]],
                columns: Sequence[tuple[str, str]], currency: str) -> None:
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for label, _key in columns:
        table.add_column(label)
    for row in rows:
        cells = []
        for _label, key in columns:
            value = row.get(key)
            if key.endswith("_at") and value:
                value = cli_when(str(value))
            elif key in ("amount", "fee", "net") and value is not None and not cli_english():
                value = cli_money(str(value), currency)
            elif key in ("status", "kind", "description") and not cli_english():
                value = _(ROW_WORDS[value]) if value in ROW_WORDS else value
            elif key == "gateway" and value and not cli_english():
                value = gateway_label(get_mill(), str(value))
            cells.append("" if value is None else str(value))
        table.add_row(*cells)
    console.print(table)


_comment_option = click.option("--comment", default=None,
                               help="A note stored with the history event.")


@order.command("accept")
@click.argument("number")
@_comment_option
def order_accept(number: str, comment: str | None) -> None:
    """Accept a pending order (provisioning plugins react)."""
    _report(get_mill().orders.accept(number, actor=CLI_ACTOR, comment=comment))


class LineUnits(click.ParamType):
    """`--line ID` (the whole line) or `--line ID:QTY` (that many of its units)."""

    name = "ID[:QTY]"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[int, int | None]:
        if isinstance(value, tuple):
            return value
        line_id, _sep, units = str(value).partition(":")
        try:
            return int(line_id), (int(units) if units else None)
        except ValueError:
            self.fail(_("%(value)s is not a line: use ID or ID:QTY, e.g. 12 or 12:1.",
                        value=repr(value)),
                      param, ctx)


LINE_UNITS = LineUnits()


@order.command("cancel")
@click.argument("number")
@click.option("--line", "lines", multiple=True, type=LINE_UNITS,
              help="Cancel only this line, or ID:QTY that many of its units (repeat for "
                   "several). Default: the whole order.")
@click.option("--restock/--no-restock", default=True, show_default=True,
              help="Return the units to stock.")
@_comment_option
def order_cancel(number: str, lines: tuple[tuple[int, int | None], ...], restock: bool,
                 comment: str | None) -> None:
    """Cancel an order, some of its lines or some units of a line. Cancelling is final."""
    _report(get_mill().orders.cancel(number, actor=CLI_ACTOR, lines=list(lines) or None,
                                     restock=restock, comment=comment))


@order.command("refund")
@click.argument("number")
@click.option("--line", "lines", multiple=True, type=LINE_UNITS,
              help="Refund this line, or ID:QTY that many of its units (repeat for "
                   "several). Default: everything captured.")
@click.option("--amount", default=None, help="Refund this amount, e.g. 12.50.")
@click.option("--restock/--no-restock", default=True, show_default=True,
              help="Return refunded lines' units to stock.")
@_comment_option
def order_refund(number: str, lines: tuple[tuple[int, int | None], ...], amount: str | None,
                 restock: bool, comment: str | None) -> None:
    """Refund the whole order, chosen lines or units, or an amount (refunded lines are
    cancelled)."""
    mill = get_mill()
    money = None
    if amount is not None:
        money = Money.parse(amount, mill.orders.get(number).currency, field="--amount")
    _report(mill.orders.refund(number, actor=CLI_ACTOR, lines=list(lines) or None,
                               amount=money, restock=restock, comment=comment))


@order.command("mark-paid")
@click.argument("number")
@click.option("--reference", default=None, help="Bank or cheque reference.")
@_comment_option
def order_mark_paid(number: str, reference: str | None, comment: str | None) -> None:
    """Record everything still due as received (bank transfer, cheque, invoice)."""
    _report(get_mill().orders.mark_paid(number, actor=CLI_ACTOR, reference=reference,
                                        comment=comment))


@order.command("fraud")
@click.argument("number")
@_comment_option
def order_fraud(number: str, comment: str | None) -> None:
    """Set an order as fraud: open invoices are cancelled."""
    _report(get_mill().orders.mark_fraud(number, actor=CLI_ACTOR, comment=comment))


@order.command("pending")
@click.argument("number")
@_comment_option
def order_pending(number: str, comment: str | None) -> None:
    """Set an order back to pending (from fraud its invoices are unpaid again)."""
    _report(get_mill().orders.set_back_to_pending(number, actor=CLI_ACTOR, comment=comment))


@order.command("set-status")
@click.argument("number")
@click.argument("status")
@_comment_option
def order_set_status(number: str, status: str, comment: str | None) -> None:
    """Move an order to any status the registry allows, e.g. a plugin's custom one.

    A status change runs no module commands (no provisioning, no refund)."""
    _report(get_mill().orders.set_status(number, status, actor=CLI_ACTOR, comment=comment))


@order.command("delete")
@click.argument("number")
@click.option("--restock/--no-restock", default=None,
              help="Required: return the order's units to stock, or write them off.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def order_delete(number: str, restock: bool | None, yes: bool) -> None:
    """Delete an unpaid, cancelled or fraud order for good (its history stays)."""
    if restock is None:  # deleting is irreversible: the stock question must be answered
        raise click.UsageError(_("Say --restock (units go back on sale) or --no-restock (units are "
                                 "written off)."))
    mill = get_mill()
    if not yes:
        preview = mill.orders.delete(number, actor=CLI_ACTOR, restock=restock, dry_run=True)
        click.confirm(_("Delete order %(number)s for good? %(message)s",
                        number=number, message=preview.preview['message']),
                      abort=True)
    _report(mill.orders.delete(number, actor=CLI_ACTOR, restock=restock))


@order.command("comment")
@click.argument("number")
@click.argument("text")
@click.option("--notify", is_flag=True, help="E-mail it to the customer and show it to them.")
def order_comment(number: str, text: str, notify: bool) -> None:
    """Add a progress comment to an order's history."""
    _report(get_mill().orders.add_comment(number, text, actor=CLI_ACTOR, notify_customer=notify,
                                          visible_to_customer=notify))
