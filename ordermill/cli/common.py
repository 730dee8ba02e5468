"""What every command shares: the app made once per command, one-line errors, consoles
wide enough when piped, the action report, and signal handling for long runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.i18n import (
    DEFAULT_LOCALE,
    current_locale,
    current_timezone,
    format_datetime,
    format_money,
    locale_from_env,
    set_timezone,
    use_locale,
)
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order
from ordermill.core.money import Money
from ordermill.core.orders import ActionResult
from ordermill.core.permissions import ROLES
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor

CLI_ACTOR = Actor.system("cli")
PIPED_WIDTH = 160
STAFF_ROLES = tuple(role for role in ROLES if role != "customer")


def _fail(message: str) -> NoReturn:
    click.echo(_("Error: %(message)s", message=message), err=True)
    raise SystemExit(1)


# ---- what a person reads, in the language of LANG / LC_ALL / LC_MESSAGES -------------------

def cli_english() -> bool:
    """True when the CLI speaks English (its output then stays exactly as scripts knew it)."""
    return current_locale() == DEFAULT_LOCALE


def cli_money(decimal_text: str | None, currency: str, *, code: bool = True) -> str:
    """An API decimal ("12.50") as a person reads it: "12.50 EUR" in English (as always,
    `code=False`: "12.50"), babel's "12,50 €" in French."""
    if decimal_text is None or decimal_text == "":
        return ""
    if cli_english():
        return f"{decimal_text} {currency}" if code else str(decimal_text)
    return format_money(Money.parse(decimal_text, currency, allow_negative=True).amount,
                        currency)


def cli_when(iso_text: str | None) -> str:
    """A stored ISO time in the shop's time zone: "2026-11-30 12:00" in English, babel's
    short form otherwise (see `cli_zone` for the zone's name)."""
    if not iso_text:
        return ""
    when = dt.datetime.fromisoformat(str(iso_text))
    if cli_english():
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(ZoneInfo(current_timezone())).strftime("%Y-%m-%d %H:%M")
    return format_datetime(when, "short")


def cli_zone() -> str:
    """The zone `cli_when` shows times in ("UTC", "Europe/Paris"), printed beside them."""
    return current_timezone()


def _database_message(error: DBAPIError) -> str:
    """One line for a database error, with the likely fix when the schema is missing."""
    text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return _("The database has no ordermill tables yet (%(error)s). Run `ordermill init` "
                 "first.", error=text)
    return _("The database refused: %(error)s", error=text)


class _OrdermillGroup(click.Group):
    """The root group: turns core and database errors into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        with use_locale(locale_from_env()):  # errors and output in the shell's language
            try:
                return super().invoke(ctx)
            except OrdermillError as error:
                _fail(error.message)
            except DBAPIError as error:
                _fail(_database_message(error))
            except (ArgumentError, NoSuchModuleError) as error:
                _fail(_("The database URL is not usable: %(error)s", error=error))


def get_mill() -> Ordermill:
    """The app for this command, made once from the environment (or passed in as obj)."""
    root = click.get_current_context().find_root()
    state = root.ensure_object(dict)
    if "mill" not in state:
        settings = state.get("settings") or Settings.from_env()
        try:
            mill = Ordermill(settings)
        except ModuleNotFoundError as error:  # e.g. a PostgreSQL URL without psycopg
            _fail(_("%(error)s (needed for %(url)s). For PostgreSQL install the extra: pip "
                    "install 'ordermill[postgres]'.", error=error,
                    url=_safe_url(settings.database_url)))
        state["mill"] = mill
        root.call_on_close(mill.dispose)
    mill = state["mill"]
    assert isinstance(mill, Ordermill)
    # from here on the command shows dates in the shop's zone (until the group's
    # use_locale block ends, so nothing outlives the command)
    set_timezone(mill.settings.timezone)
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
    click.echo(_("Order %(number)s: %(message)s", number=preview["number"],
                 message=preview["message"]))
    for key, label in (("status", _("status")), ("payment_status", _("payment")),
                       ("summary", _("summary"))):
        moved = preview.get(key) or {}
        if moved.get("from") != moved.get("to"):
            click.echo(f"  {label}: {moved.get('from')} -> {moved.get('to')}")
    released = preview.get("stock_released") or {}
    if released:
        click.echo(_("  stock released: %(items)s", items=", ".join(
            f"{sku} x{n}" for sku, n in sorted(released.items()))))
    if preview.get("jobs"):
        click.echo(_("  background jobs queued: %(jobs)s", jobs=", ".join(preview["jobs"])))
    for failure in result.hook_failures:
        click.echo(_("  warning: plugin %(plugin)s failed in %(hook)s: %(error)s (the action "
                     "itself is done)", plugin=repr(failure.plugin), hook=failure.hook,
                     error=failure.error), err=True)


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
