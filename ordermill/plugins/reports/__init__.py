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
* `hookspecs`: the hook `confirmed_sales_condition`, through which the `sales_managers`
  plugin says which sales are confirmed (the "by sales manager" report counts those only and
  is offered only when a plugin answers).

Blocking the plugin removes all of it: routes, the menu link, the command, the permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ordermill.api import N_, Actor, AdminLink, PermissionSpec, hookimpl
from ordermill.plugins.reports import hookspecs as reports_hookspecs
from ordermill.plugins.reports.definitions import REPORTS, Filters, parse_filters
from ordermill.plugins.reports.service import PERMISSION, run_report

if TYPE_CHECKING:
    import click
    from flask import Blueprint

MENU_LABEL = N_("Reports")
MENU_PATH = "/admin/reports/"


@hookimpl(trylast=True)
def add_hookspecs(pm: Any) -> None:
    """`confirmed_sales_condition`: how the manager report learns which sales count."""
    pm.add_hookspecs(reports_hookspecs)


@hookimpl(trylast=True)
def register_permissions() -> list[PermissionSpec]:
    return [PermissionSpec(PERMISSION, "See sales reports and download them as CSV",
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
def admin_menu_links(actor: Actor) -> Iterable[AdminLink]:
    from ordermill.plugins.reports.i18n import _

    return [AdminLink(_(MENU_LABEL), MENU_PATH, permission=PERMISSION)]


__all__ = ["PERMISSION", "REPORTS", "Filters", "parse_filters", "run_report"]
