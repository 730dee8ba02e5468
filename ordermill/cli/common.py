"""What every command shares: the app made once per command, one-line errors, consoles
wide enough when piped, the action report, and signal handling for long runs."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.models import Order
from ordermill.core.orders import ActionResult
from ordermill.core.permissions import ROLES
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor

CLI_ACTOR = Actor.system("cli")
PIPED_WIDTH = 160
STAFF_ROLES = tuple(role for role in ROLES if role != "customer")


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
        settings = state.get("settings") or Settings.from_env()
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
