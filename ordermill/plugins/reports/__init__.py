"""Reports (seed 003): sales by payment system and currency, by offer, by offer category and
by sales manager, each a table with filters and totals, sortable, as CSV, from the API, the
admin's "Reports" tab (with a bar chart drawn as inline SVG) and `ordermill report ...`.

* `definitions`: the reports, their columns and their filters (date range, currency,
  gateway);
* `queries`: one GROUP BY statement per report (revenue by payment date, orders by placement
  date, amounts without tax (`tax`), a payment's fee split over its lines in proportion to
  their gross);
* `service`: permission (`view_reports`, registered here), sorting and totals: what every
  surface calls;
* `web` (API and admin page), `cli`, `csvout`, `chart`;
* `facts` and `summary`: the plugin's summary tables (created and filled by its Alembic
  branch, migrations/, label "reports"), kept in step with the orders inside every write
  transaction, and the reports as one GROUP BY each over them (p95 < 300 ms at 100,000
  orders, bench/reports.py); `queries` stays the live reference (`--exact`), and
  `ordermill report rebuild` refills the tables after changes made around the ORM;
* `hookspecs`: the hook `confirmed_sales_condition`, through which the `sales_managers`
  plugin says which sales are confirmed (the "by sales manager" report counts those only and
  is offered only when a plugin answers).

Blocking the plugin removes all of it: routes, the menu link, the command, the permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordermill.api import (
    N_,
    ActionContext,
    Actor,
    AdminLink,
    Order,
    PermissionSpec,
    Settings,
    hookimpl,
)
from ordermill.plugins.reports import facts
from ordermill.plugins.reports import hookspecs as reports_hookspecs
from ordermill.plugins.reports.definitions import REPORTS, Filters, parse_filters
from ordermill.plugins.reports.i18n import i18n as catalog  # noqa: F401 (registers its domain)
from ordermill.plugins.reports.service import PERMISSION, run_report

if TYPE_CHECKING:
    import click
    from flask import Blueprint

MENU_LABEL = N_("Reports")
MENU_PATH = "/admin/reports/"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BRANCH = "reports"

facts.install()  # the summary tables follow every committed change (see facts)


@hookimpl
def order_saved(order: Order, ctx: ActionContext) -> None:
    """A placed order's summary row is written in its transaction: the core inserts a new
    order without a flush the listener would see."""
    if ctx.session is not None:
        facts.note_new_order(ctx.session, order.id)


@hookimpl
def order_updated(order: Order, changed: frozenset[str], ctx: ActionContext) -> None:
    """An action changed the order: its summary rows are recomputed before the commit when
    a column they read changed (an UPDATE alone is written without a flush)."""
    if ctx.session is not None and changed & facts.ORDER_FIELDS_SET:
        facts.note_changed_order(ctx.session, order.id)


@hookimpl(trylast=True)
def add_hookspecs(pm: Any) -> None:
    """`confirmed_sales_condition`: how the manager report learns which sales count."""
    pm.add_hookspecs(reports_hookspecs)


@hookimpl(trylast=True)
def register_permissions() -> list[PermissionSpec]:
    return [PermissionSpec(PERMISSION, N_("See sales reports and download them as CSV"),
                           roles=("manager",))]


@hookimpl(trylast=True)
def register_blueprints() -> list[Blueprint]:
    from ordermill.plugins.reports.web import reports_admin, reports_api

    return [reports_api, reports_admin]


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    from ordermill.plugins.reports.cli import add_commands

    add_commands(cli)


@hookimpl(trylast=True)
def register_migration_locations(settings: Settings) -> Iterable[str]:
    return [str(MIGRATIONS)]


@hookimpl(trylast=True)
def admin_menu_links(actor: Actor) -> Iterable[AdminLink]:
    from ordermill.plugins.reports.i18n import _

    return [AdminLink(_(MENU_LABEL), MENU_PATH, permission=PERMISSION)]


__all__ = ["BRANCH", "MIGRATIONS", "PERMISSION", "REPORTS", "Filters", "parse_filters",
           "run_report"]
