"""Sales managers (seed 003): check and confirm who made a sale.

Each order names a sales manager (`Order.sales_manager_id`, set at placement by staff through
the API or the admin's Add New Order; none means "system"). That attribution is the core's;
this plugin adds the check: a sale is shown red until someone holding `confirm_sales` (a
permission this plugin registers, held by admins and managers) confirms it, green after.
Confirming may change the manager, writes a `sale_confirmed` history event, and is kept in
the plugin's own table (`models`, created by its Alembic branch in migrations/).

What it adds, all gone when the plugin is blocked:

* the order page's "Sale" card and "Check / Confirm" button (`admin`);
* `GET /api/v1/orders/{number}/sale`, `POST .../sale/confirm` and the admin's form route
  (`web`);
* `ordermill sales show|confirm` (`cli`);
* the order-list filter `sales=unconfirmed|confirmed` (API, admin, CSV exports);
* the confirmed-sales condition the `reports` plugin's "by sales manager" report asks for
  through its hook `confirmed_sales_condition` (implemented as an optional hook, so this
  plugin loads the same without `reports`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordermill.api import (
    N_,
    ActionContext,
    Actor,
    EventTypeSpec,
    FilterSpec,
    InvalidInput,
    Order,
    OrderButton,
    OrderPanel,
    PermissionSpec,
    Settings,
    hookimpl,
)
from ordermill.plugins.sales_managers.confirming import (
    EVENT_TYPE,
    PERMISSION,
    confirm_sale,
    confirmed_condition,
    sale_state,
)
from ordermill.plugins.sales_managers.i18n import DOMAIN
from ordermill.plugins.sales_managers.i18n import i18n as catalog  # noqa: F401 (registers its domain)
from ordermill.plugins.sales_managers.models import SalesConfirmation

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy import Select

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BRANCH = "sales_managers"
FILTER_NAME = "sales"
FILTER_LABEL = N_("Sales")
FILTER_CHOICES = (("unconfirmed", N_("Unconfirmed sales")), ("confirmed", N_("Confirmed sales")))


@hookimpl(trylast=True)
def register_permissions() -> list[PermissionSpec]:
    return [PermissionSpec(PERMISSION, N_("Check and confirm the sales manager of a sale"),
                           roles=("manager",))]


@hookimpl(trylast=True)
def register_event_types() -> list[EventTypeSpec]:
    """`sale_confirmed` in the order's history, in the reader's language."""
    return [EventTypeSpec(EVENT_TYPE, N_("Sale confirmed"), DOMAIN)]


@hookimpl(trylast=True)
def register_blueprints() -> list[Blueprint]:
    from ordermill.plugins.sales_managers.web import sales_admin, sales_api

    return [sales_api, sales_admin]


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    from ordermill.plugins.sales_managers.cli import add_commands

    add_commands(cli)


@hookimpl(trylast=True)
def admin_order_panels(order: Order, actor: Actor) -> list[OrderPanel] | None:
    """The "Sale" card: the manager, red until confirmed, green after."""
    from ordermill.plugins.sales_managers import admin

    return admin.order_panels(order, actor)


@hookimpl(trylast=True)
def admin_order_actions(order: Order, actor: Actor) -> list[OrderButton] | None:
    """"Check / Confirm" while the sale is unconfirmed (confirm_sales)."""
    from ordermill.plugins.sales_managers import admin

    return admin.order_buttons(order, actor)


def _filter(query: Select[Any], value: str) -> Select[Any]:
    if value == "unconfirmed":
        return query.where(~confirmed_condition(Order.id))
    if value == "confirmed":
        return query.where(confirmed_condition(Order.id))
    raise InvalidInput(f"Unknown sales filter {value!r}.", details={"field": FILTER_NAME})


@hookimpl(trylast=True)
def order_list_filters() -> list[FilterSpec]:
    return [FilterSpec(FILTER_NAME, FILTER_LABEL, _filter, choices=FILTER_CHOICES)]


@hookimpl(optionalhook=True)
def confirmed_sales_condition(order_id: Any) -> Any:
    """For the reports plugin: the orders whose sale is confirmed."""
    return confirmed_condition(order_id)


@hookimpl(trylast=True)
def on_demo_loaded(orders: Sequence[str], ctx: ActionContext) -> None:
    """Confirm most of the demo's phone sales, leaving some red to check."""
    from ordermill.plugins.sales_managers.demo import confirm_demo_sales

    confirm_demo_sales(ctx.mill, orders)


@hookimpl(trylast=True)
def register_migration_locations(settings: Settings) -> Iterable[str]:
    return [str(MIGRATIONS)]


__all__ = ["BRANCH", "MIGRATIONS", "SalesConfirmation", "confirm_sale", "sale_state"]
