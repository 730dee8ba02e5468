"""Response schemas: they describe the dicts of core/serialize.py and core/queries.py field
by field; fields that may be null say so, so schemathesis can hold every response to the
document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ordermill.core.available import ACTION_NAMES
from ordermill.core.queries import PAYMENT_STATUSES
from ordermill.web.api.schemas.pricing import AdjustmentOut, PricingOut, RefundTaxOut

# ================================================================ errors


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "illegal_transition"})
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    """Every error: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


# ================================================================ auth


class MeOut(Schema):
    email = fields.String(required=True)
    role = fields.String(required=True, allow_none=True)
    user_id = fields.Integer(allow_none=True)
    token_id = fields.Integer(allow_none=True)
    via = fields.String(required=True, metadata={"description": "token or user (session)"})
    permissions = fields.List(fields.String(), required=True)


class LoginOut(Schema):
    token = fields.String(required=True, metadata={"description": "Shown once; keep it."})
    token_type = fields.String(required=True)
    token_id = fields.Integer(required=True)
    csrf_token = fields.String(required=True, metadata={
        "description": "Send as X-CSRF-Token with unsafe requests made with the session "
                       "cookie (not needed with the bearer token)."})
    user = fields.Nested(MeOut, required=True)


class TokenOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.String(required=True)
    last_used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(required=True, metadata={"description": "Shown once; keep it."})


class TokenListOut(Schema):
    tokens = fields.List(fields.Nested(TokenOut), required=True)


class LogoutOut(Schema):
    logged_out = fields.Boolean(required=True)
    revoked_token_id = fields.Integer(allow_none=True)


# ================================================================ orders out


def _str(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


class LineOut(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    category = _str()
    kind = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = fields.String(required=True)
    discount = fields.String(required=True)
    tax = fields.String(required=True, metadata={"description": "The tax in `total`."})
    total = fields.String(required=True, metadata={
        "description": "What the buyer pays for the line: after discounts, tax included."})
    status = fields.String(required=True, metadata={"description": "active, cancelled or "
                                                    "refunded"})
    refunded = fields.String(required=True)
    units_held = fields.Integer(required=True)
    units_released = fields.Integer(required=True)
    attendee = _str()
    domain = _str()
    billing_cycle = _str()
    provisioning_status = _str()
    options = fields.Dict(allow_none=True)
    parent_line_id = fields.Integer(allow_none=True, metadata={
        "description": "Set on units split off a line by a partial cancel or refund: the "
                       "line they came from."})


class InvoiceOut(Schema):
    id = fields.Integer(required=True)
    number = _str(metadata={"description": "Given when issued (INV-2026-000123); a void "
                                           "invoice keeps it."})
    amount = fields.String(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "The document: draft (unnumbered, may still change), issued "
                       "(numbered, frozen) or void (cancelled after issue)."})
    payment_status = fields.String(required=True, metadata={
        "description": "Its money: unpaid, paid or cancelled."})
    description = _str()
    created_at = _str()
    issued_at = _str()
    voided_at = _str()
    paid_at = _str()


class CreditNoteOut(Schema):
    id = fields.Integer(required=True)
    number = _str(metadata={"description": "CN-2026-000045, its own gapless series."})
    invoice_id = fields.Integer(allow_none=True)
    invoice_number = _str()
    refund_id = fields.Integer(allow_none=True)
    reason = fields.String(required=True, metadata={"description": "refund or order_deleted"})
    amount = fields.String(required=True)
    tax = fields.String(required=True)
    tax_breakdown = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    currency = fields.String(required=True)
    issued_at = _str()


class PaymentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "charge or refund"})
    status = fields.String(required=True)
    gateway = fields.String(required=True)
    gateway_reference = _str()
    invoice_id = fields.Integer(allow_none=True)
    refund_of_id = fields.Integer(allow_none=True)
    amount = fields.String(required=True)
    fee = fields.String(required=True)
    net = fields.String(required=True)
    currency = fields.String(required=True)
    one_click = fields.Boolean(required=True)
    manual = fields.Boolean(required=True)
    note = _str()
    created_at = _str()
    tax = fields.List(fields.Nested(RefundTaxOut), required=True, metadata={
        "description": "A refund's tax per rate (net + tax add up to its amount)."})


class FraudCheckOut(Schema):
    provider = fields.String(required=True)
    status = fields.String(required=True)
    score = _str()
    reasons = fields.List(fields.Raw(), allow_none=True)
    error = _str()
    raw = fields.Dict(allow_none=True)
    created_at = _str()


class EventOut(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    actor = fields.String(required=True, metadata={"description": "user:<email>, "
                                                   "token:<id>:<email>, system:..., ..."})
    message = fields.String(required=True, metadata={
        "description": "In the request's language (Accept-Language; English by default)."})
    message_id = fields.String(allow_none=True, metadata={
        "description": "The catalog message id of `message` (null on events older than "
                       "issue 21), to translate it on the client with `params`."})
    params = fields.Dict(allow_none=True)
    status_from = _str()
    status_to = _str()
    comment = _str()
    notify_customer = fields.Boolean(required=True)
    visible_to_customer = fields.Boolean(required=True)
    data = fields.Dict(allow_none=True)
    created_at = _str()


class BuyerOut(Schema):
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = _str()
    billing_address = fields.Dict(allow_none=True, metadata={
        "description": "country: ISO 3166-1 alpha-2 (the tax destination)"})
    language = _str()
    vat_id = _str(metadata={"description": "The buyer's VAT number (B2B)."})


class OrderOut(Schema):
    """An order with its lines, invoices, payments, fraud checks and derived statuses."""

    number = fields.String(required=True, metadata={"example": "4821736590"})
    status = fields.String(required=True)
    payment_status = fields.String(required=True, metadata={"enum": list(PAYMENT_STATUSES)})
    summary = fields.String(required=True, metadata={
        "description": "Complete, X/Y Complete, Unpaid, Refunded, Cancelled, "
                       "Refunded/Cancelled"})
    version = fields.Integer(required=True)
    currency = fields.String(required=True)
    subtotal = fields.String(required=True)
    discount = fields.String(required=True)
    fee_total = fields.String(required=True, metadata={
        "description": "Fees and shipping, before their tax."})
    tax_total = fields.String(required=True, metadata={
        "description": "All tax, of lines and fees (also tax included in gross prices)."})
    total = fields.String(required=True, metadata={"description": "What the buyer pays."})
    total_excl_tax = fields.String(required=True, metadata={
        "description": "total - tax_total"})
    adjustments = fields.List(fields.Nested(AdjustmentOut), required=True, metadata={
        "description": "Discounts, tax, fees and shipping (the price_adjustments hook)."})
    amount_due = fields.String(required=True)
    captured = fields.String(required=True)
    refunded = fields.String(required=True)
    quantity = fields.Integer(required=True)
    buyer = fields.Nested(BuyerOut, required=True)
    promo_code = _str()
    payment_method = fields.String(required=True)
    customer_ip = _str()
    affiliate = _str()
    sales_manager_id = fields.Integer(allow_none=True)
    customer_note = _str()
    needs_attention = _str()
    fraud_score = _str()
    placed_at = _str()
    invoiced_at = _str()
    paid_at = _str()
    accepted_at = _str()
    dispatched_at = _str()
    delivered_at = _str()
    cancelled_at = _str()
    lines = fields.List(fields.Nested(LineOut), required=True)
    invoices = fields.List(fields.Nested(InvoiceOut), required=True)
    credit_notes = fields.List(fields.Nested(CreditNoteOut), required=True)
    payments = fields.List(fields.Nested(PaymentOut), required=True)
    fraud_checks = fields.List(fields.Nested(FraudCheckOut), required=True)
    history = fields.List(fields.Nested(EventOut))
    plugin_data = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True,
                              metadata={"description": "Values of the order fields plugins "
                                                       "add, by plugin: {plugin: {field: "
                                                       "value}}."})
    available_actions = fields.List(
        fields.String(validate=validate.OneOf(ACTION_NAMES)), required=True,
        metadata={"description": "The actions that apply to this order for the caller (their "
                                 "permission, the order's state): accept, mark_paid, "
                                 "record_payment, cancel, refund, cancel_and_refund, "
                                 "mark_fraud, set_back_to_pending, set_status, "
                                 "resend_confirmation, revoke_customer_links, "
                                 "rerun_fraud_check, delete, add_lines, edit_buyer, "
                                 "add_comment, mark_dispatched, mark_delivered. A hint for "
                                 "buttons: each action checks again."})


class OrderDetailOut(OrderOut):
    """GET /orders/{number}: the order with its history (same fields as OrderOut)."""


class FromToOut(Schema):
    from_ = fields.String(attribute="from", data_key="from", allow_none=True)
    to = fields.String(allow_none=True)


class RefundPlanOut(Schema):
    charge_id = fields.Integer(allow_none=True)
    gateway = fields.String(allow_none=True)
    amount = fields.String(allow_none=True)
    amount_minor = fields.Integer(allow_none=True)
    automatic = fields.Boolean(allow_none=True)
    not_configured = fields.Boolean(allow_none=True, metadata={
        "description": "The gateway could refund but is not configured: the refund can only "
                       "be recorded as manual."})


class PreviewOut(Schema):
    """What an action did, or (dry run) would do. Same code path either way."""

    action = fields.String()
    number = fields.String()
    event = fields.String()
    message = fields.String(metadata={"description": "What the history records."})
    plan = fields.String(metadata={
        "description": "What the action does, in the future tense (\"Will cancel the order "
                       "and release 2 tickets.\"): what a preview shows before confirming."})
    status = fields.Nested(FromToOut)
    payment_status = fields.Nested(FromToOut)
    summary = fields.Nested(FromToOut)
    stock_released = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                 metadata={"description": "Units returned to stock by sku."})
    refunds = fields.List(fields.Nested(RefundPlanOut),
                          metadata={"description": "Refund per captured payment and gateway."})
    amount_refunded = fields.String()
    jobs = fields.List(fields.String(), metadata={"description": "Outbox jobs queued."})
    data = fields.Dict()
    version = fields.Integer()
    replayed = fields.Boolean()
    pricing = fields.Nested(PricingOut, metadata={
        "description": "place only: the order's price and every adjustment."})


class HookFailureOut(Schema):
    plugin = fields.String(required=True)
    hook = fields.String(required=True)
    error = fields.String(required=True)


class ActionOut(Schema):
    """The answer of every action: the preview, and for a real run the order and event."""

    dry_run = fields.Boolean(required=True)
    preview = fields.Nested(PreviewOut, required=True)
    order = fields.Nested(OrderOut, allow_none=True, required=True)
    event = fields.Nested(EventOut, allow_none=True, required=True)
    hook_failures = fields.List(fields.Nested(HookFailureOut), required=True)


class BulkOut(Schema):
    dry_run = fields.Boolean(required=True)
    changed = fields.List(fields.String(), required=True)
    skipped = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class OrderSummaryOut(Schema):
    number = fields.String(required=True)
    status = fields.String(required=True)
    payment_status = fields.String(required=True)
    summary = fields.String(required=True)
    buyer_name = fields.String(required=True)
    buyer_email = fields.String(required=True)
    quantity = fields.Integer(required=True)
    currency = fields.String(required=True)
    total = fields.String(required=True)
    amount_due = fields.String(required=True)
    captured = fields.String(required=True)
    refunded = fields.String(required=True)
    promo_code = _str()
    payment_method = fields.String(required=True)
    placed_at = fields.String(required=True)
    needs_attention = _str()
    version = fields.Integer(required=True)


class PageOut(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_exact = fields.Boolean(required=True, metadata={
        "description": "false: `total` and `pages` are lower bounds (the order list counts "
                       "at most 10,000 matches past the page asked for); follow next_page"})
    pages = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True)
    prev_page = fields.Integer(allow_none=True, required=True)


class OrderListOut(PageOut):
    orders = fields.List(fields.Nested(OrderSummaryOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `after` for the next page (keyset: as fast on page 2,000 as "
                       "on page 1); null on the last page."})


class PaymentRowOut(PaymentOut):
    order_number = fields.String(required=True)
    buyer_name = fields.String(required=True)
    buyer_email = fields.String(required=True)


class PaymentListOut(PageOut):
    payments = fields.List(fields.Nested(PaymentRowOut), required=True)


class ProductOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    category = _str()
    kind = fields.String(required=True)
    price = fields.String(required=True)
    currency = fields.String(required=True)
    stock = fields.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    billing_cycle = _str()
    provisioning_module = _str()
    active = fields.Boolean(required=True)


class ProductListOut(PageOut):
    products = fields.List(fields.Nested(ProductOut), required=True)


class StatusOut(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    category = fields.String(required=True)
    colour = fields.String(required=True)
    description = fields.String(required=True)
    transitions = fields.List(fields.String(), required=True)
    owner = fields.String(required=True)


class StatusListOut(Schema):
    statuses = fields.List(fields.Nested(StatusOut), required=True)


class PluginOut(Schema):
    name = fields.String(required=True)
    version = _str()
    source = fields.String(required=True)
    distribution = _str()
    hooks = fields.List(fields.String(), required=True)


class PluginFailureOut(Schema):
    name = fields.String(required=True)
    distribution = _str()
    error = fields.String(required=True)


class PluginListOut(Schema):
    plugins = fields.List(fields.Nested(PluginOut), required=True)
    failures = fields.List(fields.Nested(PluginFailureOut), required=True)
