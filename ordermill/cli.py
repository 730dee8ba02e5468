"""The `ordermill` command line: set up, run, inspect and act on orders from a shell.

A shop owner's first contact is `ordermill serve --demo`; operators need `init`, `worker` and
`plugins`; support staff sometimes fix an order without the admin (`ordermill order refund`).
Order commands call the very same core actions as the API and the admin, as the system actor
"cli", so the history says where each change came from. Core errors print as one clear line
and exit with code 1: a shell user never sees a traceback for a refused action.

Settings come from the environment (ORDERMILL_DATABASE_URL, ORDERMILL_INSTANCE_PATH, ...),
read when a command first needs the app.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, inspect, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import selectinload

from ordermill import __version__
from ordermill.cli_outbox import retry_dead
from ordermill.cli_plugins import with_plugin_commands
from ordermill.cli_secrets import secrets_group, startup_checks
from ordermill.cli_users import user_password
from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.models import Order
from ordermill.core.money import Money
from ordermill.core.orders import ActionResult
from ordermill.core.permissions import ROLES
from ordermill.core.serialize import money_text
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, payment_status

if TYPE_CHECKING:
    from ordermill.demo import DemoLogin

CLI_ACTOR = Actor.system("cli")
PIPED_WIDTH = 160
STAFF_ROLES = tuple(role for role in ROLES if role != "customer")


# ---------------------------------------------------------------------------------- plumbing


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(1)


def _database_message(error: DBAPIError) -> str:
    """One line for a database error, with the likely fix when the schema is missing."""
    text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return (f"The database has no ordermill tables yet ({text}). "
                f"Run `ordermill init` first.")
    return f"The database refused: {text}"


class _OrdermillGroup(click.Group):
    """The root group: turns core and database errors into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OrdermillError as error:
            _fail(error.message)
        except DBAPIError as error:
            _fail(_database_message(error))
        except (ArgumentError, NoSuchModuleError) as error:
            _fail(f"The database URL is not usable: {error}")


def get_mill() -> Ordermill:
    """The app for this command, made once from the environment (or passed in as obj)."""
    root = click.get_current_context().find_root()
    state = root.ensure_object(dict)
    if "mill" not in state:
        settings = Settings.from_env()
        try:
            mill = Ordermill(settings)
        except ModuleNotFoundError as error:  # e.g. a PostgreSQL URL without psycopg
            _fail(f"{error} (needed for {_safe_url(settings.database_url)}). For PostgreSQL "
                  f"install the extra: pip install 'ordermill[postgres]'.")
        state["mill"] = mill
        root.call_on_close(mill.dispose)
    mill = state["mill"]
    assert isinstance(mill, Ordermill)
    return mill


def _console() -> Console:
    """A console on the current stdout (made per call so CliRunner captures it).

    Piped output (a file, `less`, a test) gets wide tables instead of rich's 80 columns.
    """
    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    return console


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _has_schema(mill: Ordermill) -> bool:
    return inspect(mill.engine).has_table(Order.__tablename__)


def _report(result: ActionResult) -> None:
    """Print what an action did: its message, status moves, stock, refunds, queued jobs."""
    preview: Mapping[str, Any] = result.preview
    click.echo(f"Order {preview['number']}: {preview['message']}")
    for key, label in (("status", "status"), ("payment_status", "payment"),
                       ("summary", "summary")):
        moved = preview.get(key) or {}
        if moved.get("from") != moved.get("to"):
            click.echo(f"  {label}: {moved.get('from')} -> {moved.get('to')}")
    released = preview.get("stock_released") or {}
    if released:
        click.echo("  stock released: " + ", ".join(f"{sku} x{n}" for sku, n in
                                                     sorted(released.items())))
    if preview.get("jobs"):
        click.echo("  background jobs queued: " + ", ".join(preview["jobs"]))
    for failure in result.hook_failures:
        click.echo(f"  warning: plugin {failure.plugin!r} failed in {failure.hook}: "
                   f"{failure.error} (the action itself is done)", err=True)


@contextmanager
def _until_signalled(stop: threading.Event | None = None,
                     on_signal: Callable[[], None] | None = None) -> Iterator[None]:
    """Route SIGTERM and SIGINT to `stop`/`on_signal` for the block; restore afterwards."""

    def handler(signum: int, _frame: Any) -> None:
        if stop is not None:
            stop.set()
        if on_signal is not None:
            on_signal()

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in previous:
            signal.signal(sig, handler)
    try:
        yield
    finally:
        if in_main:
            for sig, old in previous.items():
                signal.signal(sig, old)


# ---------------------------------------------------------------------------------- root


@click.group(cls=with_plugin_commands(_OrdermillGroup))
@click.version_option(__version__, prog_name="ordermill")
def main() -> None:
    """ordermill: a plugin-based order desk.

    Configure with environment variables: ORDERMILL_DATABASE_URL (default: a SQLite file in
    ./instance/), ORDERMILL_INSTANCE_PATH, ORDERMILL_LOAD_PLUGINS, ... (see the README).
    """
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
def init() -> None:
    """Create the database schema, or upgrade it to the newest version."""
    from ordermill.core.schema import upgrade_database

    mill = get_mill()
    upgrade_database(mill)
    click.echo(f"Database ready: {_safe_url(mill.settings.database_url)}")


@main.command()
@click.option("--force", is_flag=True, help="Add the demo orders even if orders exist.")
def demo(force: bool) -> None:
    """Load the demo shop: products, promo codes and ~45 orders in every situation."""
    from ordermill.core.schema import upgrade_database
    from ordermill.demo import ensure_demo_admin, has_orders, load_demo

    mill = get_mill()
    upgrade_database(mill)
    if has_orders(mill) and not force:
        _fail("This database already has orders, and demo data belongs in an empty shop. "
              "Use `ordermill demo --force` to add it anyway.")
    summary = load_demo(mill)
    login = ensure_demo_admin(mill)
    click.echo(f"Demo shop loaded into {_safe_url(mill.settings.database_url)}:")
    click.echo(f"  {summary.describe()}")
    _echo_login(login)


def _echo_login(login: DemoLogin) -> None:
    if login.password:
        click.echo(f"Log in as {login.email} with password {login.password}")
    else:
        click.echo(f"Log in as {login.email} (its password was changed since the demo "
                   f"set it up)")


# ---------------------------------------------------------------------------------- serve


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::", "*"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--demo/--no-demo", "with_demo", default=False, show_default=True,
              help="On an empty database: create the schema, load demo data and a demo admin.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Request threads of the waitress server.")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Run outbox jobs in this process (turn off when `ordermill worker` runs).")
def serve(host: str, port: int, with_demo: bool, threads: int, with_worker: bool) -> None:
    """Run the web app (JSON API and admin) under waitress."""
    import waitress

    from ordermill.web import create_app

    logging.getLogger("ordermill").setLevel(logging.INFO)
    logging.getLogger("waitress").setLevel(logging.INFO)
    mill = get_mill()
    startup_checks(mill)  # no key (PostgreSQL without one): refuse; stale vault: warn
    login = None
    if with_demo:
        from ordermill.core.schema import upgrade_database
        from ordermill.demo import ensure_demo_admin, has_orders, load_demo

        upgrade_database(mill)
        if not has_orders(mill):
            click.echo("Loading the demo shop ...")
            click.echo(f"  {load_demo(mill).describe()}")
        login = ensure_demo_admin(mill)
    elif not _has_schema(mill):
        _fail(f"The database {_safe_url(mill.settings.database_url)} has no ordermill tables "
              f"yet. Run `ordermill init` first, or `ordermill serve --demo` to try it out.")
    app = create_app(mill)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads)
    except OSError as error:
        _fail(f"Cannot listen on {host}:{port}: {error.strerror or error}")
    effective_port = getattr(server, "effective_port", None)
    if effective_port is None:  # several sockets (e.g. "localhost" on IPv4 and IPv6)
        effective_port = server.effective_listen[0][1]  # type: ignore[attr-defined]
    url = f"http://{_display_host(host)}:{effective_port}/"
    stop = threading.Event()
    outbox = None
    if with_worker:
        outbox = threading.Thread(target=mill.outbox.run_forever, args=(stop,),
                                  name="ordermill-outbox", daemon=True)
        outbox.start()
    click.echo(f"ordermill {__version__} is running at {url}")
    click.echo(f"Database: {_safe_url(mill.settings.database_url)}")
    if login is not None:
        _echo_login(login)
    click.echo("Press Ctrl+C to stop.")

    def interrupt() -> None:
        raise KeyboardInterrupt  # waitress's loop catches it and shuts down cleanly

    with _until_signalled(stop, interrupt), suppress(KeyboardInterrupt):
        server.run()
    stop.set()
    if outbox is not None:
        outbox.join(timeout=10)
    click.echo("Stopped.")


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs that are due, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05),
              help="Seconds to wait when no job is due.")
def worker(once: bool, poll: float) -> None:
    """Run outbox jobs (e-mails, webhooks, provisioning) until SIGTERM or Ctrl+C."""
    mill = get_mill()
    startup_checks(mill)  # e-mails sign order links; provisioning decrypts secrets
    if once:
        ran = mill.outbox.run_until_empty()
        counts = mill.outbox.counts()
        waiting = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                            if status != "done") or "nothing waiting"
        click.echo(f"Ran {ran} job(s). Outbox: {waiting}.")
        return
    logging.getLogger("ordermill").setLevel(logging.INFO)
    stop = threading.Event()
    click.echo("Outbox worker running; Ctrl+C or SIGTERM stops it.")
    with _until_signalled(stop):
        mill.outbox.run_forever(stop, poll_seconds=poll)
    click.echo("Worker stopped.")


# ---------------------------------------------------------------------------------- plugins


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def plugins(as_json: bool) -> None:
    """List loaded plugins (name, version, where from, hooks) and plugins that failed."""
    mill = get_mill()
    infos = mill.plugins.plugin_infos()
    failures = list(mill.plugins.failures)
    if as_json:
        _echo_json({"plugins": [info.to_dict() for info in infos],
                    "failures": [attrs.asdict(failure) for failure in failures]})
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


@main.command()
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


# ---------------------------------------------------------------------------------- staff


@main.group()
def user() -> None:
    """Staff users of the admin."""


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
    click.echo(f"Created {role} {created.email}.")


@main.group()
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
    click.echo("Store this token now: it cannot be shown again.", err=True)


# ---------------------------------------------------------------------------------- orders


@main.group()
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
    query = (select(Order).options(selectinload(Order.lines), selectinload(Order.payments))
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
        click.echo("No orders match.")
        return
    table = Table()
    for column in ("Number", "Placed", "Buyer", "Status", "Payment", "Summary", "Qty",
                   "Total", "Method", "Promo"):
        table.add_column(column, no_wrap=column in ("Number", "Placed", "Total"),
                         justify="right" if column in ("Qty", "Total") else "left")
    for row in rows:
        flag = " [red]![/red]" if row["needs_attention"] else ""
        table.add_row(row["number"] + flag, row["placed_at"][:16].replace("T", " "),
                      row["buyer_name"], row["status"], row["payment_status"], row["summary"],
                      str(row["quantity"]), f"{row['total']} {row['currency']}",
                      row["payment_method"], row["promo_code"] or "")
    console = _console()
    console.print(table)
    console.print(f"{len(rows)} order(s){' (limit reached)' if len(rows) == limit else ''}.")


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
    currency = data["currency"]
    buyer = data["buyer"]
    console.print(f"[bold]Order {data['number']}[/bold]  {data['status']} | "
                  f"{data['payment_status']} | {data['summary']}  (version {data['version']})")
    console.print(f"Buyer: {buyer['name']} <{buyer['email']}>"
                  + (f", {buyer['phone']}" if buyer.get("phone") else ""))
    console.print(f"Placed {data['placed_at'][:16].replace('T', ' ')} UTC, payment by "
                  f"{data['payment_method']}"
                  + (f", promo {data['promo_code']}" if data.get("promo_code") else ""))
    console.print(f"Total {data['total']} {currency} (subtotal {data['subtotal']}, discount "
                  f"{data['discount']}); captured {data['captured']}, refunded "
                  f"{data['refunded']}, due {data['amount_due']}")
    for key in ("accepted_at", "dispatched_at", "delivered_at", "cancelled_at"):
        if data.get(key):
            console.print(f"{key.replace('_at', '').capitalize()}: "
                          f"{data[key][:16].replace('T', ' ')} UTC")
    if data.get("customer_note"):
        console.print(f"Customer note: {data['customer_note']}")
    if data.get("needs_attention"):
        console.print(f"[red]Needs attention:[/red] {data['needs_attention']}")

    lines = Table(title="Lines", title_justify="left")
    for column in ("ID", "Product", "Qty", "Unit", "Discount", "Total", "Status", "Refunded",
                   "Details"):
        lines.add_column(column, justify="right" if column in ("ID", "Qty", "Unit", "Discount",
                                                                 "Total", "Refunded") else "left")
    for line in data["lines"]:
        details = [text for text in (
            line.get("attendee"), line.get("domain"), line.get("billing_cycle"),
            f"provisioning {line['provisioning_status']}" if line.get("provisioning_status")
            else None) if text]
        lines.add_row(str(line["id"]), f"{line['name']} ({line['sku']})", str(line["quantity"]),
                      line["unit_price"], line["discount"], line["total"], line["status"],
                      line["refunded"], ", ".join(details))
    console.print(lines)
    _print_rows(console, "Invoices", data["invoices"],
                (("ID", "id"), ("Amount", "amount"), ("Status", "status"),
                 ("Description", "description"), ("Paid", "paid_at")))
    _print_rows(console, "Payments", data["payments"],
                (("ID", "id"), ("Kind", "kind"), ("Status", "status"), ("Gateway", "gateway"),
                 ("Amount", "amount"), ("Fee", "fee"), ("Net", "net"),
                 ("Reference", "gateway_reference"), ("When", "created_at")))
    history = Table(title="History", title_justify="left")
    for column in ("When", "Who", "What", "Message"):
        history.add_column(column)
    for event in data.get("history", []):
        message = event["message"]
        if event.get("comment"):
            message += f"\n[italic]{event['comment']}[/italic]"
            if event.get("notify_customer"):
                message += " (customer notified)"
        history.add_row(event["created_at"][:16].replace("T", " "), event["actor"],
                        event["type"], message)
    console.print(history)


def _print_rows(console: Console, title: str, rows: Sequence[Mapping[str, Any]],
                columns: Sequence[tuple[str, str]]) -> None:
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
                value = str(value)[:16].replace("T", " ")
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


@order.command("cancel")
@click.argument("number")
@click.option("--line", "line_ids", multiple=True, type=int,
              help="Cancel only this line (repeat for several). Default: the whole order.")
@click.option("--restock/--no-restock", default=True, show_default=True,
              help="Return the units to stock.")
@_comment_option
def order_cancel(number: str, line_ids: tuple[int, ...], restock: bool,
                 comment: str | None) -> None:
    """Cancel an order or some of its lines. Cancelling is final."""
    _report(get_mill().orders.cancel(number, actor=CLI_ACTOR, line_ids=list(line_ids) or None,
                                     restock=restock, comment=comment))


@order.command("refund")
@click.argument("number")
@click.option("--line", "line_ids", multiple=True, type=int,
              help="Refund this line (repeat for several). Default: everything captured.")
@click.option("--amount", default=None, help="Refund this amount, e.g. 12.50.")
@click.option("--restock/--no-restock", default=True, show_default=True,
              help="Return refunded lines' units to stock.")
@_comment_option
def order_refund(number: str, line_ids: tuple[int, ...], amount: str | None, restock: bool,
                 comment: str | None) -> None:
    """Refund the whole order, chosen lines or an amount (refunded lines are cancelled)."""
    mill = get_mill()
    money = None
    if amount is not None:
        money = Money.parse(amount, mill.orders.get(number).currency, field="--amount")
    _report(mill.orders.refund(number, actor=CLI_ACTOR, line_ids=list(line_ids) or None,
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
        raise click.UsageError("Say --restock (units go back on sale) or --no-restock "
                               "(units are written off).")
    mill = get_mill()
    if not yes:
        preview = mill.orders.delete(number, actor=CLI_ACTOR, restock=restock, dry_run=True)
        click.confirm(f"Delete order {number} for good? {preview.preview['message']}",
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


# ---------------------------------------------------------------------------------- outbox


@main.group()
def outbox() -> None:
    """Background jobs (e-mails, webhooks, provisioning)."""


@outbox.command("list")
@click.option("--status", default=None,
              type=click.Choice(["pending", "running", "done", "dead"]),
              help="Only jobs in this state.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def outbox_list(status: str | None, limit: int, as_json: bool) -> None:
    """List outbox jobs, newest first."""
    mill = get_mill()
    jobs = mill.outbox.jobs(status, limit=limit)
    if as_json:
        _echo_json(jobs)
        return
    if not jobs:
        click.echo("No jobs.")
        return
    table = Table()
    for column in ("ID", "Kind", "Status", "Attempts", "Order", "Run after", "Last error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(str(job["id"]), job["kind"], job["status"],
                      f"{job['attempts']}/{job['max_attempts']}", job["order_number"] or "",
                      job["run_after"][:16].replace("T", " "), job["last_error"] or "")
    _console().print(table)


@outbox.command("retry")
@click.argument("job_id", type=int)
def outbox_retry(job_id: int) -> None:
    """Give a dead job a fresh set of attempts, due now."""
    get_mill().outbox.retry(job_id, actor_label=CLI_ACTOR.label)
    click.echo(f"Job {job_id} will run again.")


main.add_command(secrets_group)
outbox.add_command(retry_dead)  # ordermill/cli_outbox.py


if __name__ == "__main__":  # pragma: no cover
    main()
