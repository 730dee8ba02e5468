"""A plugin that lives only in the tests: loyalty points on the admin's order page (a panel
from its own template, a button to its own route) and a settings tab.

Its route checks its permission itself, as docs/hooks.md tells plugin authors to: the tests
prove a role without it neither sees the button nor reaches the route.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ordermill import hookimpl
from ordermill.core.admin_specs import OrderButton, OrderPanel, SettingField, SettingsPage
from ordermill.core.errors import InvalidInput
from ordermill.core.models import Order
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

PERMISSION = "manage_fraud"  # admins and managers hold it, support and viewers do not
loyalty_bp = Blueprint("loyalty", __name__)
loyalty_bp.enable_openapi = False  # type: ignore[attr-defined]


@loyalty_bp.post("/loyalty/grant")
def grant() -> Any:
    """Grant points: writes a comment on the order (through the core, as the staff user)."""
    from flask import current_app

    if not current_user.is_authenticated:
        abort(401)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400)
    actor = current_user.actor
    require(actor, PERMISSION)
    number = request.args["number"]
    current_app.extensions["ordermill"].orders.add_comment(number, "Granted 100 points.",
                                                           actor=actor)
    return redirect(f"/admin/orders/{number}", 303)


def rate(value: int) -> None:
    if not 1 <= value <= 100:
        raise InvalidInput("Between 1 and 100 points per euro.")


def tier_code(value: str) -> str:
    return value.upper()


class Loyalty:
    """The plugin object: panels for everyone but viewers, a button for PERMISSION holders."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def admin_order_panels(self, order: Order, actor: Actor) -> list[OrderPanel] | None:
        self.seen.append((order.number, actor.name))
        if actor.role == "viewer":
            return None
        points = sum(line.total for line in order.lines) // 100
        return [OrderPanel("Loyalty points", "panel.html", package=__name__,
                           context={"points": points, "note": "<b>bold</b> & more"})]

    @hookimpl
    def admin_order_actions(self, order: Order, actor: Actor) -> list[OrderButton]:
        return [OrderButton("Grant 100 points", "loyalty.grant", permission=PERMISSION,
                            confirm="Grant 100 points?"),
                OrderButton("Receipt", f"/admin/orders/{order.number}/receipt", method="GET")]

    @hookimpl
    def admin_settings_pages(self) -> list[SettingsPage]:
        return [SettingsPage(
            name="loyalty", label="Loyalty", permission=PERMISSION,
            defaults=lambda settings: {"rate": 5, "tier": "bronze"},
            fields=(SettingField("rate", "Points per euro", kind="number", required=True,
                                 validate=rate),
                    SettingField("enabled", "Give points", kind="checkbox"),
                    SettingField("tier", "Starting tier", kind="select",
                                 choices=[("bronze", "Bronze"), ("silver", "Silver")]),
                    SettingField("code", "Tier code", validate=tier_code, max_length=8),
                    SettingField("terms", "Terms", kind="textarea")))]
