"""Order stamps: a third-party ordermill plugin using the whole extension surface.

Staff holding `surface.stamp` (admins and managers) stamp an order: from the JSON API
(POST /api/v1/surface/orders/<number>/stamps), from the button on the admin's order page, or
read the stamps on the command line (`ordermill surface badges <number>`). Each stamp is a
history event of the order, written in the action runner. Other plugins add badges to an
order through this plugin's own hook, `surface_badges(order)`.

It imports nothing of ordermill but `ordermill.api` and `ordermill.hookspecs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, List, String
from apiflask.validators import Length
from flask import Blueprint, abort, current_app, redirect, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ordermill.api import (
    Actor,
    AdminLink,
    Order,
    OrderButton,
    Ordermill,
    OrderPanel,
    PermissionSpec,
    current_mill,
    hookimpl,
    require,
    require_actor,
)
from ordermill.hookspecs import hookspec, register_hook

PLUGIN = "surface"
PERMISSION = "surface.stamp"
EVENT = "surface_stamped"


class SurfaceHooks:
    """The hooks this plugin defines for other plugins."""

    @hookspec
    @register_hook
    def surface_badges(self, order: Order) -> Iterable[str] | None:
        """Badges to show next to an order's stamps. Register hook of the surface plugin,
        called whenever the stamps are shown (API, admin panel, CLI)."""


# ---------------------------------------------------------------------------- the stamps


def app_mill() -> Ordermill:
    return current_app.extensions["ordermill"]  # type: ignore[no-any-return]


def badges(mill: Ordermill, order: Order) -> list[str]:
    """Every plugin's badges for the order, through this plugin's hook."""
    return [badge for found in mill.plugins.call("surface_badges", order=order).values
            for badge in found]


def stamps(order: Order) -> int:
    return int((order.plugin_data or {}).get(PLUGIN, {}).get("stamps", 0))


def stamp(mill: Ordermill, number: str, actor: Actor, note: str) -> Order:
    """One stamp: counted in the order's plugin data, written in its history."""
    with mill.orders.editing(number, actor=actor, action="surface_stamp",
                             permission=PERMISSION) as (order, ctx):
        count = stamps(order) + 1
        order.plugin_data = {**(order.plugin_data or {}), PLUGIN: {"stamps": count}}
        ctx.record_event(order, EVENT, f"Stamp {count}: {note}", data={"stamps": count})
    return mill.orders.get(number)


def summary(mill: Ordermill, order: Order) -> dict[str, Any]:
    return {"number": order.number, "stamps": stamps(order), "badges": badges(mill, order)}


# ---------------------------------------------------------------------------- the JSON API


class StampIn(Schema):
    note = String(required=True, validate=Length(min=1, max=200),
                  metadata={"description": "Why the order is stamped."})


class StampsOut(Schema):
    number = String()
    stamps = Integer(metadata={"description": "How many times the order was stamped."})
    badges = List(String(), metadata={"description": "Badges other plugins add."})


api = APIBlueprint("surface_api", __name__, url_prefix="/api/v1/surface", tag="surface")


@api.get("/orders/<number>/stamps")
@api.output(StampsOut)
@api.doc(summary="An order's stamps and badges", responses=[401, 403, 404])
def read_stamps(number: str) -> dict[str, Any]:
    actor = require_actor()
    require(actor, PERMISSION)
    mill = app_mill()
    return summary(mill, mill.orders.get(number, actor=actor))


@api.post("/orders/<number>/stamps")
@api.input(StampIn)
@api.output(StampsOut, status_code=201)
@api.doc(summary="Stamp an order", responses=[401, 403, 404, 422])
def add_stamp(number: str, json_data: dict[str, Any]) -> dict[str, Any]:
    actor = require_actor()
    require(actor, PERMISSION)
    mill = app_mill()
    return summary(mill, stamp(mill, number, actor, json_data["note"]))


# ---------------------------------------------------------------------------- admin pages


pages = Blueprint("surface_pages", __name__, url_prefix="/admin/surface")


@pages.get("")
def desk() -> str:
    """The page the menu link opens; it checks the permission itself."""
    require(require_actor(), PERMISSION)
    return "<h1>Surface desk</h1><p>Stamp orders from their page.</p>"


@pages.post("/stamp")
def stamp_from_admin() -> Any:
    """The order page's button: a form post with the admin's CSRF token."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400)
    actor: Actor = current_user.actor  # the admin's logged-in staff member
    number = request.args.get("number", "")
    stamp(app_mill(), number, actor, "from the admin")  # require()s the permission
    return redirect(f"/admin/orders/{number}", 303)


# ---------------------------------------------------------------------------- hooks


@hookimpl
def add_hookspecs(pm: Any) -> None:
    pm.add_hookspecs(SurfaceHooks)


@hookimpl
def surface_badges(order: Order) -> list[str]:
    return [f"stamped x{stamps(order)}"] if stamps(order) else []


@hookimpl
def register_permissions() -> list[PermissionSpec]:
    return [PermissionSpec(PERMISSION, "Stamp orders (surface plugin)", roles=("manager",))]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    return [api, pages]


@hookimpl
def admin_menu_links(actor: Actor) -> list[AdminLink]:
    return [AdminLink("Surface desk", "/admin/surface", permission=PERMISSION)]


@hookimpl
def admin_order_panels(order: Order) -> list[OrderPanel]:
    mill = app_mill()
    return [OrderPanel("Surface stamps", "stamps_panel.html", package=__name__,
                       context={"stamps": stamps(order), "badges": badges(mill, order)})]


@hookimpl
def admin_order_actions(order: Order) -> list[OrderButton] | None:
    if order.status not in ("pending", "active"):
        return None  # only open orders are stamped
    return [OrderButton("Stamp order", "surface_pages.stamp_from_admin", permission=PERMISSION,
                        confirm="Stamp this order?")]


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.group()
    def surface() -> None:
        """Order stamps (surface plugin)."""

    @surface.command("badges")
    @click.argument("number")
    def show_badges(number: str) -> None:
        """Show an order's stamps and every plugin's badges."""
        mill = current_mill()
        found = summary(mill, mill.orders.get(number))
        click.echo(f"Order {found['number']}: {found['stamps']} stamp(s); badges: "
                   f"{', '.join(found['badges']) or 'none'}")
