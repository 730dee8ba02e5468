"""Orders: place, list, export, show, and every action of the core, addressed by number.

Each action endpoint takes `?dry_run=true` and answers the core's preview of the action
without changing anything; a real call answers the same preview plus the order as it now is
and the event written, so a client can compare the two.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import current_app, request
from flask.blueprints import BlueprintSetupState
from marshmallow import RAISE, Schema

from ordermill.core import queries
from ordermill.core.admin_specs import list_filters, plugin_data_of, request_fields, settings_pages
from ordermill.core.errors import ActionNotAllowed, InvalidInput, OrderNotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.money import Money
from ordermill.core.orders import BUYER_FIELDS, ActionResult
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.serialize import event_to_dict, order_to_dict
from ordermill.core.specs import Actor
from ordermill.web.api import api, documented
from ordermill.web.api.csvout import csv_response, day_range, page_fields
from ordermill.web.api.schemas import (
    AcceptIn,
    ActionIn,
    ActionOut,
    AddLinesIn,
    BulkOut,
    BulkStatusIn,
    BuyerIn,
    CancelAndRefundIn,
    CancelIn,
    CommentIn,
    DeleteQuery,
    DryRunQuery,
    FulfilIn,
    IdempotencyHeaders,
    MarkPaidIn,
    OrderDetailOut,
    OrderFilterQuery,
    OrderListOut,
    OrderListQuery,
    PaymentIn,
    PlaceIn,
    RefundIn,
    StatusIn,
    plugin_fields,
    version_field,
)
from ordermill.web.auth import current_actor, mill, require_actor
from ordermill.web.errors import AuthenticationRequired
from ordermill.web.extensions import checkout_limit, limiter

ACTION_ERRORS = (400, 403, 409)
PLACE_SCOPE = "POST /api/v1/orders"
DRY_RUN_ANSWER = {200: {
    "description": "Dry run: what placing would do; nothing was saved.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActionOut"}}},
}}


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


def _plugin_surface(state: BlueprintSetupState) -> None:
    """When the API joins an app: check the plugins' fields, filters and settings pages
    (a conflict fails start-up naming both plugins) and document fields and filters."""
    app = state.app
    mill_ = app.extensions.get("ordermill")
    if mill_ is not None:
        request_fields(mill_, set(PlaceIn().fields))
        list_filters(mill_)
        settings_pages(mill_)
    previous = getattr(app, "spec_callback", None)

    def process(spec: dict[str, Any]) -> dict[str, Any]:
        return plugin_fields.document(app, previous(spec) if previous else spec)

    app.spec_callback = process  # type: ignore[attr-defined]


api.record_once(_plugin_surface)


# ---------------------------------------------------------------------------- helpers


def _money(text: str, currency: str, field: str) -> Money:
    """Money.parse with the field named, so a client knows which amount was refused."""
    return Money.parse(text, currency, field=field)


def _order_currency(number: str) -> str:
    currency = queries.order_currency(mill(), number)
    if currency is None:
        raise OrderNotFound(_("No order %(number)s.", number=number), details={"number": number})
    return currency


def _line_requests(lines: Sequence[Mapping[str, Any]], field: str,
                   currency: str | None = None) -> list[LineRequest]:
    """LineRequests from JSON; a price override is read in its product's currency (looked up
    only when a line has one and the body names no currency)."""
    known: dict[str, str] = {}
    if currency is None and any(line.get("price_override") is not None for line in lines):
        known = queries.currencies_of_skus(mill(), [line["sku"] for line in lines])
    fallback = currency or mill().settings.default_currency
    requests = []
    for index, line in enumerate(lines):
        override = line.get("price_override")
        price = None
        if override is not None:
            price = _money(override, currency or known.get(line["sku"], fallback),
                           f"{field}.{index}.price_override")
        requests.append(LineRequest(
            sku=line["sku"], quantity=line["quantity"], price_override=price,
            attendee=line.get("attendee"), domain=line.get("domain"),
            billing_cycle=line.get("billing_cycle"), options=line.get("options") or {}))
    return requests


def order_dict(number: str, actor: Actor | None = None, *, viewing: bool = False
               ) -> dict[str, Any]:
    """The order as GET /orders/{number} shows it: read from the database with its history
    in one read session, with the actions that apply to it for the caller (`actor`, else
    the request's). `viewing`: the caller must hold view_orders (GET); an action's answer
    is read as its actor acted."""
    service = mill().orders
    caller = actor or current_actor()
    order, events = service.detail(number, actor=caller if viewing else None)
    data = order_to_dict(order, events=events)
    data["available_actions"] = (service.available_actions(order, caller)
                                 if caller is not None else [])
    return data


def answer(result: ActionResult, number: str, actor: Actor | None = None) -> dict[str, Any]:
    """The body of every action: the preview, and for a real run the order and event."""
    body: dict[str, Any] = {
        "dry_run": result.dry_run, "preview": dict(result.preview), "order": None,
        "event": None,
        "hook_failures": [{"plugin": f.plugin, "hook": f.hook, "error": f.error}
                          for f in result.hook_failures],
    }
    if not result.dry_run:
        if result.event is not None:
            body["event"] = event_to_dict(result.event)
        if result.event is None or result.event.type != "deleted":
            body["order"] = order_dict(number, actor=actor)  # as stored, as GET shows it
    return body


def _version(data: Mapping[str, Any]) -> int | None:
    return data.get("expected_version")


# ---------------------------------------------------------------------------- placing


def _fingerprint() -> str:
    """sha256 of the canonical JSON body: the same request, whatever its key order."""
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _placing_actor(email: str) -> Actor:
    actor = current_actor()
    if actor is not None:
        return actor
    if not current_app.config["ORDERMILL_PUBLIC_CHECKOUT"]:
        raise AuthenticationRequired(_("Placing orders needs an API token on this shop."))
    return Actor.customer(email)


def _caller(actor: Actor, email: str) -> str:
    """Whose Idempotency-Keys these are: the staff user (token or session alike), or for an
    anonymous checkout the buyer's e-mail, so two shoppers never collide on one key."""
    if actor.user_id is not None:
        return f"user:{actor.user_id}"
    if actor.kind == "customer":
        return f"customer:{email.strip().lower()}"
    return actor.kind


def _order_key(caller: str, key: str) -> str:
    """The order's own unique idempotency key (200 characters at most, deterministic)."""
    plain = f"{PLACE_SCOPE} {caller}:{key}"
    if len(plain) <= 200:
        return plain
    digest = hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()
    return f"{PLACE_SCOPE} sha256:{digest}"


def _is_staff_call() -> bool:
    return "Authorization" in request.headers


@api.post("/orders")
@limiter.limit(checkout_limit, exempt_when=_is_staff_call)
@api.input(IdempotencyHeaders, location="headers", arg_name="headers_data")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(PlaceIn, location="json")
@api.output(ActionOut, status_code=201)
@documented(400, 401, 403, 409, 429, auth="optional", responses=DRY_RUN_ANSWER,
            anonymous_when="ORDERMILL_PUBLIC_CHECKOUT",
            summary="Place an order (storefront or staff); honours Idempotency-Key")
def place_order(headers_data: dict[str, Any], query_data: dict[str, Any],
                json_data: dict[str, Any]) -> Any:
    """Price, discount, reserve stock and number a new order.

    Anonymous calls act as the customer (storefront checkout, when the shop allows it);
    staff tokens may also override prices and plan partial-payment invoices. With an
    Idempotency-Key, a retry of the same body answers the first response and creates
    nothing; the same key with another body is a 422.
    """
    actor = _placing_actor(json_data["customer"]["email"])
    dry_run = query_data["dry_run"]
    key = headers_data.get("idempotency_key")
    fingerprint = _fingerprint()
    caller = _caller(actor, json_data["customer"]["email"])
    if key and not dry_run:
        record = queries.find_idempotency_record(mill(), PLACE_SCOPE, key, caller)
        if record is not None:
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(_(
                    "This Idempotency-Key was already used with a different request body. "
                    "Use a new key for a new order."), details={"idempotency_key": key})
            return record.response, record.status_code, {"Idempotent-Replayed": "true"}
    lines = _line_requests(json_data["lines"], "lines", json_data.get("currency"))
    plan = None
    if json_data.get("invoice_plan"):
        currencies = queries.currencies_of_skus(mill(), [json_data["lines"][0]["sku"]])
        currency = next(iter(currencies.values()), mill().settings.default_currency)
        plan = [_money(text, currency, f"invoice_plan.{i}").amount
                for i, text in enumerate(json_data["invoice_plan"])]
    customer = json_data["customer"]
    order_request = OrderRequest(
        customer=CustomerDetails(
            email=customer["email"], name=customer["name"], phone=customer.get("phone"),
            company=customer.get("company"), billing_address=customer["billing_address"],
            language=customer["language"], vat_id=customer.get("vat_id")),
        lines=lines, payment_method=json_data["payment_method"],
        promo_code=json_data.get("promo_code"), currency=json_data.get("currency"),
        customer_ip=json_data.get("customer_ip"),
        affiliate=json_data.get("affiliate"), note=json_data.get("note"),
        idempotency_key=_order_key(caller, key) if key else None,
        request_fingerprint=fingerprint if key else None, invoice_plan=plan,
        generate_invoice=json_data["generate_invoice"], admin_placed=actor.kind != "customer",
        plugin_data=plugin_data_of(mill(), json_data.get("plugin_fields") or {}),
    )
    result = mill().orders.place(order_request, actor=actor, dry_run=dry_run)
    if dry_run:
        return answer(result, "", actor), 200
    assert result.order is not None
    body = answer(result, result.order.number, actor)
    if key:
        record = queries.save_idempotency_record(mill(), scope=PLACE_SCOPE, caller=caller,
                                                 key=key, fingerprint=fingerprint,
                                                 status_code=201, response=body)
        return record.response, record.status_code
    return body, 201


# ---------------------------------------------------------------------------- reading


def _filters(data: Mapping[str, Any]) -> queries.OrderFilters:
    unknown = [name for name in data["status"] if name not in mill().statuses]
    if unknown:  # the document lists the live registry; a typo must not just find nothing
        raise InvalidInput(_("Unknown status %(status)s; see GET /api/v1/statuses.",
                             status=repr(unknown[0])),
                           details={"field": "status", "fields": {"status": [_("Unknown.")]}})
    start, end = day_range(data.get("placed_from"), data.get("placed_to"))
    return queries.OrderFilters(
        q=data.get("q"), statuses=tuple(data["status"]),
        payment_statuses=tuple(data["payment_status"]),
        payment_methods=tuple(data["payment_method"]), promo_code=data.get("promo_code"),
        sku=data.get("sku"), category=data.get("category"), placed_from=start,
        placed_before=end, needs_attention=data.get("needs_attention"),
        numbers=tuple(data["number"]), plugin_filters=tuple(data.get("plugin_filters", ())))


@api.get("/orders")
@api.input(OrderListQuery, location="query", unknown=RAISE)
@api.output(OrderListOut)
@documented(403, summary="Search, filter, sort and page orders")
def list_orders(query_data: dict[str, Any]) -> Any:
    page = queries.search_orders(mill(), _filters(query_data), actor=require_actor(),
                                 sort=query_data["sort"], page=query_data["page"],
                                 per_page=query_data["per_page"],
                                 after=query_data.get("after"))
    return {"orders": [queries.order_summary(order) for order in page.items],
            **page_fields(page), "next_cursor": page.next_cursor}


@api.get("/orders/export.csv")
@api.input(OrderFilterQuery, location="query", unknown=RAISE)
@documented(403, summary="Orders as CSV (same filters and sort as the list)",
            responses={200: {"description": "CSV, one order per row",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_orders(query_data: dict[str, Any]) -> Any:
    rows = queries.export_orders(mill(), _filters(query_data), actor=require_actor(),
                                 sort=query_data["sort"])
    return csv_response(queries.CSV_COLUMNS, rows, "orders")


@api.get("/orders/<order_number:number>")
@api.output(OrderDetailOut)
@documented(403, summary="One order: lines, invoices, payments, fraud checks, history")
def get_order(number: str) -> Any:
    return order_dict(number, require_actor(), viewing=True)


# ---------------------------------------------------------------------------- actions


def _action(rule: str, body: type, summary: str, *, method: str = "post",
            status: tuple[int, ...] = ACTION_ERRORS
            ) -> Callable[[Callable[..., ActionResult]], Callable[..., Any]]:
    """Register an action endpoint: auth, dry_run, body schema, answer shape, docs."""

    def register(run: Callable[..., ActionResult]) -> Callable[..., Any]:
        def view(number: str, query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
            actor = require_actor()
            result = run(number, json_data, actor=actor, dry_run=query_data["dry_run"])
            return answer(result, number)

        view.__name__ = run.__name__
        view.__doc__ = run.__doc__
        with_query = api.input(DryRunQuery, location="query", unknown=RAISE)(view)
        with_body = api.input(body, location="json")(with_query)
        decorated = documented(*status, summary=summary)(api.output(ActionOut)(with_body))
        return getattr(api, method)(rule)(decorated)  # type: ignore[no-any-return]

    return register


def _line_quantities(data: Mapping[str, Any]) -> list[tuple[int, int]] | None:
    """`lines: [{"id", "quantity"}]` as the core takes it (it refuses a line named twice)."""
    if data.get("lines") is None:
        return None
    return [(entry["id"], entry["quantity"]) for entry in data["lines"]]


@_action("/orders/<order_number:number>/accept", AcceptIn, "Accept a pending order")
def accept(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """WHMCS AcceptOrder: pending -> active; provisioning plugins get the options."""
    return mill().orders.accept(number, options=data["options"],
                                expected_version=_version(data), comment=data["comment"], **kw)


@_action("/orders/<order_number:number>/cancel", CancelIn, "Cancel chosen lines or the whole order")
def cancel(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Cancelling is final; stock goes back unless restock is false."""
    return mill().orders.cancel(number, line_ids=data["line_ids"],
                                lines=_line_quantities(data), restock=data["restock"],
                                expected_version=_version(data), comment=data["comment"],
                                notify_customer=data["notify_customer"], **kw)


@_action("/orders/<order_number:number>/refund", RefundIn,
         "Refund the whole order, chosen lines, or an amount")
def refund(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Refunded lines are cancelled too; never more than was captured."""
    amount = None
    if data["amount"] is not None:
        amount = _money(data["amount"], _order_currency(number), "amount")
    return mill().orders.refund(number, line_ids=data["line_ids"],
                                lines=_line_quantities(data), amount=amount,
                                restock=data["restock"], expected_version=_version(data),
                                comment=data["comment"],
                                notify_customer=data["notify_customer"],
                                manual=data["manual"], **kw)


@_action("/orders/<order_number:number>/cancel-and-refund", CancelAndRefundIn,
         "Cancel every line (or chosen lines or units) and refund what was paid")
def cancel_and_refund(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """WHMCS Cancel & Refund."""
    return mill().orders.cancel_and_refund(number, line_ids=data["line_ids"],
                                           lines=_line_quantities(data),
                                           restock=data["restock"],
                                           expected_version=_version(data),
                                           comment=data["comment"], manual=data["manual"],
                                           **kw)


@_action("/orders/<order_number:number>/fraud", ActionIn, "Set as fraud")
def mark_fraud(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """WHMCS FraudOrder: invoices cancelled, services terminated by plugins."""
    return mill().orders.mark_fraud(number, expected_version=_version(data),
                                    comment=data["comment"], **kw)


@_action("/orders/<order_number:number>/pending", ActionIn, "Set back to pending")
def set_back_to_pending(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """WHMCS PendingOrder: from fraud, its invoices are unpaid again."""
    return mill().orders.set_back_to_pending(number, expected_version=_version(data),
                                             comment=data["comment"], **kw)


class FraudCheckIn(Schema):
    expected_version = version_field()


@_action("/orders/<order_number:number>/fraud-check", FraudCheckIn,
         "Re-run the fraud checks (after a provider outage)", status=(400, 403, 404, 409))
def rerun_fraud_check(number: str, data: dict[str, Any], *, actor: Actor,
                      dry_run: bool) -> ActionResult:
    """Every fraud provider (each `fraud_check` implementation) scores the order again; each
    result is kept. Over the threshold, a pending order goes to fraud. A dry run is refused:
    it would call the providers."""
    if dry_run:
        raise ActionNotAllowed(_("A fraud check cannot be previewed: it asks the providers."))
    return mill().orders.rerun_fraud_check(number, actor=actor,
                                           expected_version=_version(data))


@_action("/orders/<order_number:number>/status", StatusIn, "Move to any status the registry allows")
def set_status(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Statuses only (custom ones included); no module commands run."""
    return mill().orders.set_status(number, data["status"], expected_version=_version(data),
                                    comment=data["comment"], **kw)


@_action("/orders/<order_number:number>/payments", PaymentIn, "Record a payment (partial allowed)")
def record_payment(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Money received against the oldest unpaid invoice (or the one named)."""
    currency = _order_currency(number)
    return mill().orders.record_payment(
        number, amount=_money(data["amount"], currency, "amount"), gateway=data["gateway"],
        reference=data["reference"], fee=_money(data["fee"], currency, "fee"),
        invoice_id=data["invoice_id"], one_click=data["one_click"], manual=data["manual"],
        note=data["note"], expected_version=_version(data), comment=data["comment"],
        notify_customer=data["notify_customer"], **kw)


@_action("/orders/<order_number:number>/mark-paid", MarkPaidIn,
         "Mark as paid (whatever is still due)")
def mark_paid(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Cheque, invoice or bank transfer received: record what is due as paid."""
    return mill().orders.mark_paid(number, reference=data["reference"],
                                   expected_version=_version(data), comment=data["comment"],
                                   notify_customer=data["notify_customer"], **kw)


@_action("/orders/<order_number:number>/lines", AddLinesIn, "Add products to the order")
def add_lines(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """osConcert 'Add Products': priced, stock reserved, invoiced on a new invoice."""
    lines = _line_requests(data["lines"], "lines", _order_currency(number))
    return mill().orders.add_lines(number, lines, expected_version=_version(data),
                                   comment=data["comment"], **kw)


@_action("/orders/<order_number:number>/comments", CommentIn, "Add a progress comment")
def add_comment(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Kartris order progress: optionally e-mailed to and shown to the customer."""
    return mill().orders.add_comment(number, data["text"],
                                     notify_customer=data["notify_customer"],
                                     visible_to_customer=data["visible_to_customer"],
                                     expected_version=_version(data), **kw)


@_action("/orders/<order_number:number>/dispatch", FulfilIn, "Mark dispatched")
def dispatch(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Kartris 'dispatched': the goods left."""
    return mill().orders.mark_dispatched(number, at=data["at"], expected_version=_version(data),
                                         comment=data["comment"],
                                         notify_customer=data["notify_customer"], **kw)


@_action("/orders/<order_number:number>/deliver", FulfilIn, "Mark delivered")
def deliver(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """osConcert delivery date."""
    return mill().orders.mark_delivered(number, at=data["at"], expected_version=_version(data),
                                        comment=data["comment"],
                                        notify_customer=data["notify_customer"], **kw)


@_action("/orders/<order_number:number>", BuyerIn, "Edit the buyer's details on this order",
         method="patch")
def edit_buyer(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Name, e-mail, phone, billing address or language; other orders are not touched."""
    changes = {field: data[field] for field in BUYER_FIELDS if field in data}
    return mill().orders.edit_buyer(number, changes, expected_version=_version(data), **kw)


@api.delete("/orders/<order_number:number>")
@api.input(DeleteQuery, location="query", unknown=RAISE)
@api.output(ActionOut)
@documented(*ACTION_ERRORS, summary="Delete an order for good (?restock=true|false)")
def delete_order(number: str, query_data: dict[str, Any]) -> Any:
    """Unpaid, cancelled or fraud orders only; the deletion event stays in the history."""
    result = mill().orders.delete(number, actor=require_actor(), restock=query_data["restock"],
                                  expected_version=query_data["expected_version"],
                                  dry_run=query_data["dry_run"])
    return answer(result, number)


@api.post("/orders/bulk-status")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(BulkStatusIn, location="json")
@api.output(BulkOut)
@documented(400, 403, 409, summary="Set many orders to one status (statuses only)")
def bulk_status(query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    """WHMCS mass update: orders that cannot move are skipped and reported, not failed."""
    result = mill().orders.bulk_set_status(json_data["numbers"], json_data["status"],
                                           actor=require_actor(),
                                           dry_run=query_data["dry_run"])
    return {"dry_run": query_data["dry_run"], "changed": list(result.changed),
            "skipped": dict(result.skipped)}
