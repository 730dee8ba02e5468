"""The subscriptions API and the admin's "Recurring orders" tab, registered by
`register_blueprints` (imported only when a web app is made; gone when the plugin is blocked).

    GET  /api/v1/subscriptions?status=active          list, newest first
    POST /api/v1/subscriptions                        start one for an order (manage_recurring)
    GET  /api/v1/subscriptions/<id>                   one, with schedule, invoices, payments
    POST /api/v1/subscriptions/<id>/suspend|resume|complete|retry
    GET  /admin/subscriptions?status=...              the tab: list with status filter
    GET  /admin/subscriptions/<id>                    the subscription page with its actions
    POST /admin/subscriptions/<id>/<action>           an action button
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apiflask import APIBlueprint
from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import login_required
from marshmallow import Schema, fields, validate

from ordermill.api import (
    N_,
    InvalidInput,
    OrdermillError,
    OrderPanel,
    PermissionDenied,
    admin_actor,
    admin_form_actor,
    documented,
    request_mill,
    require_actor,
    text_field,
)
from ordermill.plugins.subscriptions import engine, reading
from ordermill.plugins.subscriptions.i18n import _, i18n_context
from ordermill.plugins.subscriptions.models import STATUSES

if TYPE_CHECKING:
    from ordermill.api import Actor, Order

PACKAGE = __package__ or "ordermill.plugins.subscriptions"
# English sources (the API's summaries use them as they are); pages translate them
ACTION_LABELS = {"suspend": N_("Suspend"), "resume": N_("Resume"),
                 "complete": N_("Complete early"), "retry": N_("Retry now")}
DONE = {"suspend": N_("Subscription %(id)s suspended."),
        "resume": N_("Subscription %(id)s resumed."),
        "complete": N_("Subscription %(id)s completed early."),
        "retry": N_("Subscription %(id)s will be debited on the next worker pass.")}

subscriptions_api = APIBlueprint("subscriptions", __name__, url_prefix="/api/v1",
                                 tag="subscriptions")
subscriptions_admin = Blueprint("subscriptions_admin", __name__,
                                url_prefix="/admin/subscriptions", template_folder="templates")
subscriptions_admin.enable_openapi = False  # type: ignore[attr-defined]  # no API


def _str() -> fields.String:
    return fields.String(allow_none=True)


class SubscriptionOut(Schema):
    id = fields.Integer(required=True)
    order_number = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(STATUSES)})
    status_label = fields.String(required=True)
    interval = fields.String(required=True)
    count = fields.Integer(allow_none=True, metadata={"description": "null: open-ended"})
    payments_made = fields.Integer(required=True)
    remaining = fields.Integer(allow_none=True)
    amount = fields.String(required=True)
    currency = fields.String(required=True)
    gateway = fields.String(required=True)
    has_saved_method = fields.Boolean(required=True)
    next_due_at = _str()
    current_invoice_id = fields.Integer(allow_none=True)
    failed_attempts = fields.Integer(required=True)
    next_attempt_at = _str()
    last_error = _str()
    actions = fields.List(fields.String(), required=True)
    created_at = _str()
    ended_at = _str()


class SubscriptionInvoiceOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    description = _str()
    amount = fields.String(required=True)
    due_at = _str()
    paid_at = _str()


class SubscriptionPaymentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    gateway = _str()
    amount = fields.String(required=True)
    invoice_id = fields.Integer(allow_none=True)
    created_at = _str()


class SubscriptionDetailOut(SubscriptionOut):
    schedule = fields.List(fields.String(), required=True)
    invoices = fields.List(fields.Nested(SubscriptionInvoiceOut), required=True)
    payments = fields.List(fields.Nested(SubscriptionPaymentOut), required=True)


class SubscriptionListOut(Schema):
    subscriptions = fields.List(fields.Nested(SubscriptionOut), required=True)


class ListQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class SubscriptionIn(Schema):
    order_number = fields.String(required=True, validate=validate.Regexp(r"^\d{10}$"))
    interval = text_field(40)
    count = fields.Integer(load_default=None, validate=validate.Range(1, 1000))
    amount = text_field(20)


class ActionIn(Schema):
    comment = text_field(2000)


def _amount(text: str | None, currency: str) -> int | None:
    if text is None:
        return None
    from ordermill.api import Money

    try:
        return Money.parse(text, currency).amount
    except Exception:
        raise InvalidInput(f"amount {text!r} must be a decimal like 12.50.",
                           details={"field": "amount"}) from None


@subscriptions_api.get("/subscriptions")
@subscriptions_api.input(ListQuery, location="query")
@subscriptions_api.output(SubscriptionListOut)
@documented(400, 403, summary="Recurring orders, newest first, by status")
def list_subscriptions(query_data: dict[str, Any]) -> Any:
    return {"subscriptions": reading.list_subscriptions(
        request_mill(), actor=require_actor(), status=query_data.get("status"))}


@subscriptions_api.post("/subscriptions")
@subscriptions_api.input(SubscriptionIn, location="json")
@subscriptions_api.output(SubscriptionDetailOut, status_code=201)
@documented(400, 403, 404, 409, summary="Start the subscription of an order")
def create_subscription(json_data: dict[str, Any]) -> Any:
    mill, actor = request_mill(), require_actor()
    order = mill.orders.get(json_data["order_number"], actor=actor)
    sub = engine.create(mill, order.number, actor=actor, interval=json_data.get("interval"),
                        count=json_data.get("count"),
                        amount=_amount(json_data.get("amount"), order.currency))
    return reading.get_subscription(mill, sub.id, actor=actor), 201


@subscriptions_api.get("/subscriptions/<id:subscription_id>")
@subscriptions_api.output(SubscriptionDetailOut)
@documented(403, 404, summary="A subscription: schedule, invoices, payments, next date")
def get_subscription(subscription_id: int) -> Any:
    return reading.get_subscription(request_mill(), subscription_id, actor=require_actor())


def _action_view(action: str) -> None:
    """POST /subscriptions/<id>/<action>: one route per action, so the document lists them."""

    def view(subscription_id: int, json_data: dict[str, Any]) -> Any:
        mill, actor = request_mill(), require_actor()
        engine.act(mill, subscription_id, action, actor=actor,
                   comment=json_data.get("comment"))
        return reading.get_subscription(mill, subscription_id, actor=actor)

    view.__name__ = f"subscription_{action}"
    view.__doc__ = ACTION_HELP[action]
    route = subscriptions_api.post(f"/subscriptions/<id:subscription_id>/{action}")
    route(subscriptions_api.input(ActionIn, location="json")(
        subscriptions_api.output(SubscriptionDetailOut)(
            documented(400, 403, 404, 409, summary=f"{ACTION_LABELS[action]} a subscription")(
                view))))


ACTION_HELP = {
    "suspend": "Pause an Active subscription: nothing is invoiced or debited until resumed.",
    "resume": "Resume a Suspended subscription; a debit whose date passed runs on the next "
              "worker pass.",
    "complete": "Finish early: the open renewal invoice is cancelled, nothing more is billed.",
    "retry": "Debit the open invoice on the next worker pass (a Failed one gets one more "
             "attempt).",
}
for _action in engine.ACTIONS:
    _action_view(_action)


# ---------------------------------------------------------------------------- admin


@subscriptions_admin.get("")
@login_required
def list_page() -> Any:
    status = request.args.get("status") or None
    if status not in (None, *STATUSES):
        status = None
    try:
        rows = reading.list_subscriptions(request_mill(), actor=admin_actor(), status=status)
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    return render_template("subscriptions/list.html", **i18n_context(), rows=rows,
                           status=status, statuses=STATUSES)


@subscriptions_admin.get("/<id:subscription_id>")
@login_required
def detail_page(subscription_id: int) -> Any:
    try:
        found = reading.get_subscription(request_mill(), subscription_id, actor=admin_actor())
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    except OrdermillError as refused:
        abort(404, description=refused.message)
    return render_template("subscriptions/detail.html", **i18n_context(), sub=found,
                           labels=ACTION_LABELS)


@subscriptions_admin.post("/<id:subscription_id>/<action>")
@login_required
def action_button(subscription_id: int, action: str) -> Any:
    if action not in engine.ACTIONS:
        abort(404)
    actor = admin_form_actor()
    back = f"/admin/subscriptions/{subscription_id}"
    try:
        engine.act(request_mill(), subscription_id, action, actor=actor)
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    except OrdermillError as refused:
        flash(refused.message, "error")
        return redirect(back, 303)
    flash(_(DONE[action], id=subscription_id), "success")
    return redirect(back, 303)


def order_panel(order: Order, actor: Actor) -> list[OrderPanel] | None:
    """A "Subscription" card on the order page, when the order has one."""
    from flask import has_request_context

    if not has_request_context():
        return None
    mill = request_mill()
    found = reading.subscription_of_order(mill, order.number)
    if found is None:
        return None
    sub = reading.get_subscription(mill, found, actor=actor)
    return [OrderPanel(_("Subscription"), "subscriptions/order_panel.html",
                       context={**i18n_context(), "sub": sub}, package=PACKAGE)]
