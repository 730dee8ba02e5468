"""Setting up and running: `init`, `demo`, `serve` (web app and, by default, the outbox
worker in one process) and `worker`."""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import click

from ordermill import __version__
from ordermill.cli.common import _fail, _has_schema, _safe_url, _until_signalled, get_mill
from ordermill.cli.secrets import startup_checks
from ordermill.core.i18n import gettext as _

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill
    from ordermill.demo import DemoLogin

DEMO_PANEL = "demo_panel"  # ordermill.demo.panel.PLUGIN_NAME, registered only by serve --demo


@click.command()
def init() -> None:
    """Create the database schema, or upgrade it to the newest version."""
    from ordermill.core.schema import upgrade_database

    mill = get_mill()
    upgrade_database(mill)
    click.echo(_("Database ready: %(value)s", value=_safe_url(mill.settings.database_url)))


@click.command()
@click.option("--force", is_flag=True, help="Add the demo orders even if orders exist.")
def demo(force: bool) -> None:
    """Load the demo shop: products, promo codes and ~45 orders in every situation."""
    from ordermill.core.schema import upgrade_database
    from ordermill.demo import ensure_demo_admin, has_orders, load_demo

    mill = get_mill()
    upgrade_database(mill)
    if has_orders(mill) and not force:
        _fail(_("This database already has orders, and demo data belongs in an empty shop. Use "
                "`ordermill demo --force` to add it anyway."))
    summary = load_demo(mill)
    login = ensure_demo_admin(mill)
    click.echo(_("Demo shop loaded into %(value)s:", value=_safe_url(mill.settings.database_url)))
    click.echo(f"  {summary.describe()}")
    _echo_login(login)


def _echo_login(login: DemoLogin) -> None:
    if login.password:
        click.echo(_("Log in as %(email)s with password %(password)s",
                     email=login.email, password=login.password))
    else:
        click.echo(_("Log in as %(email)s (its password was changed since the demo set it up)",
                     email=login.email))


# ---------------------------------------------------------------------------------- serve


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::", "*"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket for `serve --demo`: its port is known before the app is made."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as error:
        _fail(_("Cannot listen on %(host)s:%(port)s: %(value)s",
                host=host, port=port, value=error.strerror or error))
    return listener


def _use_demo_app(base_url: str) -> None:
    """Make this command's app a demo app: its provisioning posts to the demo panel that
    only `serve --demo` mounts, in this process (ordermill.demo.panel)."""
    from ordermill.core.settings import Settings
    from ordermill.demo import panel

    root = click.get_current_context().find_root().ensure_object(dict)
    if "mill" in root:  # made by a caller (a test passing obj): leave it as it is
        return
    root["settings"] = panel.demo_settings(Settings.from_env(), base_url)
    panel.register(get_mill())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--demo/--no-demo", "with_demo", default=False, show_default=True,
              help="On an empty database: create the schema, load demo data and a demo admin.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Request threads of each server process.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (one per core for a busy shop; "
                   "rate limits are counted per process unless RATELIMIT_STORAGE_URI is "
                   "shared).")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Run outbox jobs in this process (turn off when `ordermill worker` runs).")
def serve(host: str, port: int, with_demo: bool, threads: int, processes: int,
          with_worker: bool) -> None:
    """Run the web app (JSON API and admin) under waitress."""
    from ordermill.web import create_app

    logging.getLogger("ordermill").setLevel(logging.INFO)
    logging.getLogger("waitress").setLevel(logging.INFO)
    if processes > 1 and not hasattr(os, "fork"):
        _fail(_("Several server processes need fork(), which this system does not have; run "
                "one process, or several behind a load balancer."))
    listener = None
    if with_demo or processes > 1:  # the demo panel's URL needs the port before the app
        listener = _listen(host, port)
    if with_demo:
        assert listener is not None
        _use_demo_app(f"http://{_display_host(host)}:{listener.getsockname()[1]}")
    mill = get_mill()
    startup_checks(mill)  # no key (PostgreSQL without one): refuse; stale vault: warn
    login = None
    if with_demo:
        from ordermill.core.schema import upgrade_database
        from ordermill.demo import ensure_demo_admin, has_orders, load_demo

        upgrade_database(mill)
        if not has_orders(mill):
            click.echo(_("Loading the demo shop ..."))
            click.echo(f"  {load_demo(mill).describe()}")
        login = ensure_demo_admin(mill)
    elif not _has_schema(mill):
        _fail(_("The database %(value)s has no ordermill tables yet. Run `ordermill init` first, "
                "or `ordermill serve --demo` to try it out.",
                value=_safe_url(mill.settings.database_url)))
    app = create_app(mill)
    _settle_heap()
    if processes > 1:
        assert listener is not None
        _serve_processes(mill, app, listener, processes, threads, with_worker, login)
        return
    server = _server(app, listener, host, port, threads)
    effective_port = getattr(server, "effective_port", None)
    if effective_port is None:  # several sockets (e.g. "localhost" on IPv4 and IPv6)
        effective_port = server.effective_listen[0][1]  # type: ignore[attr-defined]
    _echo_running(mill, f"http://{_display_host(host)}:{effective_port}/", login)
    _run_server(mill, server, with_worker)
    click.echo(_("Stopped."))


GC_FIRST_GENERATION = 7000  # allocations between young-generation collections (Python's: 700)


def _settle_heap() -> None:
    """Freeze what start-up made (modules, app, statements built once) out of the garbage
    collector's reach and collect the young generation less often: collections cost a
    request 0.33 ms, 0.10 ms after this (issue 20). Before a fork, frozen objects also stay
    shared between the server processes instead of being copied by the collector's writes."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION, middle, old)


def _server(app: Any, listener: socket.socket | None, host: str, port: int,
            threads: int) -> Any:
    import waitress

    try:
        if listener is not None:
            return waitress.create_server(app, sockets=[listener], threads=threads)
        return waitress.create_server(app, host=host, port=port, threads=threads)
    except OSError as error:
        _fail(_("Cannot listen on %(host)s:%(port)s: %(value)s",
                host=host, port=port, value=error.strerror or error))


def _echo_running(mill: Ordermill, url: str, login: DemoLogin | None,
                  how: str | None = None) -> None:
    """What a person starting the server reads: where it runs (and `how`, a line on its
    processes), the database, the demo login and panel."""
    click.echo(_("ordermill %(version)s is running at %(url)s", version=__version__, url=url))
    if how:
        click.echo(how)
    click.echo(_("Database: %(value)s", value=_safe_url(mill.settings.database_url)))
    if login is not None:
        _echo_login(login)
    if mill.plugins.pm.has_plugin(DEMO_PANEL):
        click.echo(_("Demo control panel (what accepting a hosting order creates): "
                     "%(url)sdemo/panel/", url=url))
    click.echo(_("Press Ctrl+C to stop."))


def _run_server(mill: Ordermill, server: Any, with_worker: bool) -> None:
    """Serve until SIGTERM or Ctrl+C, with the outbox worker in a thread when asked."""
    stop = threading.Event()
    outbox = None
    if with_worker:
        outbox = threading.Thread(target=mill.outbox.run_forever, args=(stop,),
                                  name="ordermill-outbox", daemon=True)
        outbox.start()

    def interrupt() -> None:
        raise KeyboardInterrupt  # waitress's loop catches it and shuts down cleanly

    with _until_signalled(stop, interrupt), suppress(KeyboardInterrupt):
        server.run()
    stop.set()
    if outbox is not None:
        outbox.join(timeout=10)


def _serve_processes(mill: Ordermill, app: Any, listener: socket.socket, processes: int,
                     threads: int, with_worker: bool, login: DemoLogin | None) -> None:
    """`--processes N`: the children serve (the first one runs the outbox worker), this
    process supervises them (cli.prefork)."""
    from ordermill.cli.balance import ConnectionBalance
    from ordermill.cli.prefork import run_children

    balance = ConnectionBalance(processes)  # shared with the children: made before the fork
    mill.engine.dispose()  # no connection crosses the fork: each child opens its own
    host, port = listener.getsockname()[:2]
    _echo_running(mill, f"http://{_display_host(host)}:{port}/", login,
                  _("%(count)s server processes of %(threads)s threads each.",
                    count=processes, threads=threads))

    def child(index: int) -> None:
        server = _server(app, listener, host, port, threads)
        balance.attach(server, index)
        _run_server(mill, server, with_worker and index == 0)

    stop = threading.Event()
    with _until_signalled(stop):
        run_children(processes, child, stop)
    click.echo(_("Stopped."))


@click.command()
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
        click.echo(_("Ran %(ran)s job(s). Outbox: %(waiting)s.", ran=ran, waiting=waiting))
        return
    logging.getLogger("ordermill").setLevel(logging.INFO)
    stop = threading.Event()
    click.echo(_("Outbox worker running; Ctrl+C or SIGTERM stops it."))
    with _until_signalled(stop):
        mill.outbox.run_forever(stop, poll_seconds=poll)
    click.echo(_("Worker stopped."))
