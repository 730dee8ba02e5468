"""The sales_managers API and admin routes (registered by `register_blueprints`).

    GET  /api/v1/orders/<number>/sale           the sales manager and the confirmation
    POST /api/v1/orders/<number>/sale/confirm   confirm (confirm_sales), optionally changing
                                                the sales manager: {"sales_manager_id": 3}
    POST /admin/sales/orders/<number>/confirm   the admin's "Check / Confirm" (form post)

Views only translate HTTP to `confirming`, which checks the permission itself.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Blueprint, abort, flash, redirect, request
from flask_login import login_required
from marshmallow import Schema, fields, validate

from ordermill.api import (
    OrdermillError,
    PermissionDenied,
    admin_form_actor,
    documented,
    request_mill,
    require_actor,
    text_field,
)
from ordermill.plugins.sales_managers import confirming
from ordermill.plugins.sales_managers.i18n import _

MAX_INT = 2**31 - 1

sales_api = APIBlueprint("sales_managers", __name__, url_prefix="/api/v1", tag="sales")
sales_admin = Blueprint("sales_managers_admin", __name__, url_prefix="/admin/sales",
                        template_folder="templates")
sales_admin.enable_openapi = False  # type: ignore[attr-defined]  # no API


class ConfirmIn(Schema):
    sales_manager_id = fields.Integer(strict=True, allow_none=True,
                                      validate=validate.Range(min=1, max=MAX_INT), metadata={
                                          "description": "Attribute the sale to this staff "
                                                         "member (null: system); omitted: "
                                                         "keep the current one."})
    comment = text_field(2000, allow_none=True, load_default=None)


class SaleOut(Schema):
    number = fields.String(required=True)
    sales_manager_id = fields.Integer(allow_none=True)
    sales_manager = fields.String(required=True, metadata={"description": "name, or system"})
    confirmed = fields.Boolean(required=True)
    confirmed_by = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)


@sales_api.get("/orders/<order_number:number>/sale")
@sales_api.output(SaleOut)
@documented(403, 404, summary="The order's sales manager and whether the sale is confirmed")
def get_sale(number: str) -> Any:
    return confirming.sale_state(request_mill(), number, actor=require_actor()).to_dict()


@sales_api.post("/orders/<order_number:number>/sale/confirm")
@sales_api.input(ConfirmIn, location="json")
@sales_api.output(SaleOut)
@documented(400, 403, 404, 409, summary="Check and confirm the sale (confirm_sales)")
def confirm(number: str, json_data: dict[str, Any]) -> Any:
    """Confirms the sale, once; `sales_manager_id` changes the attribution on the way."""
    manager = json_data.get("sales_manager_id", confirming.KEEP)
    return confirming.confirm_sale(request_mill(), number, actor=require_actor(),
                                   manager_id=manager,
                                   comment=json_data.get("comment")).to_dict()


@sales_admin.post("/orders/<order_number:number>/confirm")
@login_required
def admin_confirm(number: str) -> Any:
    """The order page's Check / Confirm: with a `sales_manager_id` field from the Sale card
    ("" for system), without one from the action button (keep the manager)."""
    actor = admin_form_actor()
    back = f"/admin/orders/{number}"
    manager: Any = confirming.KEEP
    if "sales_manager_id" in request.form:
        raw = request.form["sales_manager_id"].strip()
        if raw and not raw.isdigit():
            flash(_("Choose a sales manager from the list."), "error")
            return redirect(back, 303)
        manager = int(raw) if raw else None
    try:
        state = confirming.confirm_sale(request_mill(), number, actor=actor, manager_id=manager,
                                        comment=request.form.get("comment") or None)
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    except OrdermillError as refused:
        flash(refused.message, "error")
        return redirect(back, 303)
    flash(_("Sale of order %(number)s confirmed: %(manager)s.", number=number,
            manager=state.sales_manager), "success")
    return redirect(back, 303)


__all__ = ["sales_admin", "sales_api"]
