"""marshmallow schemas: they validate requests and generate /api/v1/openapi.json.

Input schemas refuse unknown fields and keep every length and number inside what the
database columns hold, so bad input is a 422 and never a database error. Money travels as a
decimal string; a JSON number for money is refused with a message saying so, because a float
cannot carry cents exactly. The currency-dependent checks (decimal places, currency) are the
core's `Money.parse`, applied by the views once the currency is known.

Output schemas describe the dicts of core/serialize.py and core/queries.py field by field;
fields that may be null say so, so schemathesis can hold every response to the document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from ordermill.core.queries import MAX_PER_PAGE, ORDER_SORTS, PAYMENT_SORTS, PAYMENT_STATUSES

MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,12})?$"  # ASCII digits only; bound: core.money
MAX_INT = 2**31 - 1
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def text(max_length: int, *, min_length: int = 0, **kwargs: Any) -> fields.String:
    """A string field limited to what its column holds."""
    return fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> fields.String:
    return text(max_length, allow_none=True, load_default=None, **kwargs)


class MoneyText(fields.String):
    """Money as a decimal string ("12.50"); JSON numbers are refused with a clear message."""

    default_error_messages = {
        "number": 'Send money as a decimal string such as "12.50", not a JSON number '
                  "(a float cannot carry cents exactly).",
        "invalid": 'Send money as a decimal string such as "12.50".',
        "format": 'Not an amount: use digits with an optional decimal point, such as "12.50" '
                  "(no sign, no currency symbol, at most 10 digits before the point).",
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"example": "12.50", "x-money": True, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str):
            if isinstance(value, (int, float)):
                raise self.make_error("number")
            raise self.make_error("invalid")
        validate.Regexp(MONEY_PATTERN, error=self.error_messages["format"])(value)
        return value


class _MoneyPattern(validate.Regexp):
    """Documents the money pattern in OpenAPI (MoneyText checks it itself)."""


def money(*, positive: bool = False, **kwargs: Any) -> MoneyText:
    """A money field; `positive` documents that the core refuses zero (payments, refunds)."""
    if positive:
        kwargs["metadata"] = {"x-money-positive": True, **kwargs.get("metadata", {})}
    field = MoneyText(**kwargs)
    field.validators.append(_MoneyPattern(MONEY_PATTERN))
    return field


def _json_object_values(value: Any, depth: int = 0) -> None:
    if depth > 5:
        raise ValidationError("Nested too deeply (at most 5 levels).")
    if isinstance(value, dict):
        if len(value) > 50:
            raise ValidationError("At most 50 keys.")
        for key, item in value.items():
            if len(str(key)) > 100:
                raise ValidationError("Keys have at most 100 characters.")
            _json_object_values(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > 100:
            raise ValidationError("At most 100 items in a list.")
        for item in value:
            _json_object_values(item, depth + 1)
    elif isinstance(value, str) and len(value) > 2000:
        raise ValidationError("Values have at most 2000 characters.")


def json_object(**kwargs: Any) -> fields.Dict:
    """A small free-form JSON object (billing address, line options, accept options)."""
    return fields.Dict(keys=fields.String(), validate=_json_object_values, **kwargs)


def _in_range(value: dt.datetime) -> None:  # by the year as written: the document's pattern
    if not EARLIEST.year <= value.year < LATEST.year:
        raise ValidationError("Dates must lie between 1970 and 2200.")


# ================================================================ errors


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "illegal_transition"})
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    """Every error: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


# ================================================================ placing orders


class CustomerIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200, min_length=1, required=True)
    phone = optional_text(50)
    company = optional_text(200)
    billing_address = json_object(load_default=dict)
    language = text(10, min_length=2, load_default="en")


class LineIn(Schema):
    sku = text(64, min_length=1, required=True)
    quantity = fields.Integer(strict=True, load_default=1,
                              validate=validate.Range(min=1, max=100_000))
    price_override = money(allow_none=True, load_default=None,
                           metadata={"description": "Staff only: the unit price to charge."})
    attendee = optional_text(200)
    domain = optional_text(253)
    billing_cycle = optional_text(20)
    options = json_object(load_default=dict)


class PlaceIn(Schema):
    customer = fields.Nested(CustomerIn, required=True)
    lines = fields.List(fields.Nested(LineIn), required=True,
                        validate=validate.Length(min=1, max=200))
    payment_method = text(64, min_length=1, required=True)
    promo_code = optional_text(64)
    customer_ip = optional_text(45)
    affiliate = optional_text(100)
    note = optional_text(5000)
    invoice_plan = fields.List(money(), allow_none=True, load_default=None,
                               validate=validate.Length(min=1, max=24),
                               metadata={"description": "Staff only: split the bill into "
                                         "these invoice amounts (partial payments)."})
    generate_invoice = fields.Boolean(load_default=True)


class IdempotencyHeaders(Schema):
    """Only the Idempotency-Key header is read; other headers are none of the schema's
    business."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key", load_default=None,
        validate=validate.Regexp(r"^[\x21-\x7e]{1,150}$",
                                 error="Use 1 to 150 visible ASCII characters, such as a UUID."),
        metadata={"description": "Retry-safe placing: the same key and body answer the first "
                                 "response and create one order."})


# ================================================================ actions


class QuerySchema(Schema):
    """Query parameters: a parameter that is not a list may be given once (`?q=a&q=b` is a
    422, not a silent pick of the first)."""

    @pre_load
    def _one_value_each(self, data: Any, **_kwargs: Any) -> Any:
        multi = getattr(data, "data", data)
        if hasattr(multi, "getlist"):
            for name, field in self.fields.items():
                key = field.data_key or name
                if not isinstance(field, fields.List) and len(multi.getlist(key)) > 1:
                    raise ValidationError("Give this parameter once.", key)
        return data


class DryRunQuery(QuerySchema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Answer with what the action would do, and change nothing."})


def version_field() -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "The order version you saw; a different one is a 409."})


class ActionIn(Schema):
    expected_version = version_field()
    comment = optional_text(5000)


class AcceptIn(ActionIn):
    options = json_object(load_default=dict, metadata={
        "description": "Provisioning options (server, username, password, registrar, ...)."})


class LineIdsMixin(Schema):
    line_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                           allow_none=True, load_default=None,
                           validate=validate.Length(min=1, max=500))
    restock = fields.Boolean(load_default=True)
    notify_customer = fields.Boolean(load_default=True)


class CancelIn(ActionIn, LineIdsMixin):
    pass


class RefundIn(ActionIn, LineIdsMixin):
    amount = money(positive=True, allow_none=True, load_default=None)
    manual = fields.Boolean(load_default=False, metadata={
        "description": "Record the refund without calling any gateway (return the money by "
                       "hand), e.g. after the gateway failed or is not configured."})


class CancelAndRefundIn(ActionIn):
    restock = fields.Boolean(load_default=True)
    manual = fields.Boolean(load_default=False, metadata={
        "description": "Record the refund without calling any gateway (return the money by "
                       "hand), e.g. after the gateway failed or is not configured."})


class PaymentIn(ActionIn):
    amount = money(positive=True, required=True)
    gateway = optional_text(64)
    reference = optional_text(200)
    fee = money(load_default="0")
    invoice_id = fields.Integer(strict=True, allow_none=True, load_default=None,
                                validate=validate.Range(min=1))
    one_click = fields.Boolean(load_default=False)
    manual = fields.Boolean(load_default=True)
    note = optional_text(5000)
    notify_customer = fields.Boolean(load_default=True)


class MarkPaidIn(ActionIn):
    reference = optional_text(200)
    notify_customer = fields.Boolean(load_default=True)


class AddLinesIn(ActionIn):
    lines = fields.List(fields.Nested(LineIn), required=True,
                        validate=validate.Length(min=1, max=200))


class CommentIn(Schema):
    text = text(10_000, min_length=1, required=True)
    notify_customer = fields.Boolean(load_default=False)
    visible_to_customer = fields.Boolean(load_default=False)
    expected_version = version_field()


class FulfilIn(ActionIn):
    at = fields.AwareDateTime(allow_none=True, load_default=None, validate=_in_range,
                              metadata={"description": "When (with a time zone); now if "
                                        "omitted."})
    notify_customer = fields.Boolean(load_default=True)


class StatusIn(ActionIn):
    status = text(40, min_length=1, required=True)


class BuyerIn(Schema):
    name = text(200, min_length=1)
    email = fields.Email(validate=validate.Length(max=254))
    phone = text(50, allow_none=True)
    billing_address = json_object()
    language = text(10, min_length=2)
    expected_version = version_field()


class DeleteQuery(DryRunQuery):
    restock = fields.Boolean(required=True, metadata={
        "description": "Return the order's stock for sale (true) or write it off (false)."})
    expected_version = fields.Integer(allow_none=True, load_default=None,
                                      validate=validate.Range(min=1, max=MAX_INT))


class BulkStatusIn(Schema):
    numbers = fields.List(text(10, min_length=1), required=True,
                          validate=validate.Length(min=1, max=500))
    status = text(40, min_length=1, required=True)


# ================================================================ lists


class CsvList(fields.List):
    """A repeatable query parameter whose values may also be comma-separated:
    `?status=pending&status=active` and `?status=pending,active` mean the same."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        split = [part.strip() for item in items
                 for part in (item.split(",") if isinstance(item, str) else [item])]
        return super()._deserialize([part for part in split if part != ""], attr, data,
                                    **kwargs)


def _sort_choices(names: tuple[str, ...]) -> list[str]:
    return [*names, *(f"-{name}" for name in names)]


class OrderFilterQuery(QuerySchema):
    q = optional_text(200, metadata={"description": "Buyer name, e-mail or order number."})
    status = CsvList(text(40), load_default=list)
    payment_status = CsvList(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)),
                             load_default=list)
    payment_method = CsvList(text(64), load_default=list)
    promo_code = optional_text(64)
    sku = optional_text(64)
    category = optional_text(100)
    placed_from = fields.Date(allow_none=True, load_default=None,
                              metadata={"description": "First day, inclusive (UTC)."})
    placed_to = fields.Date(allow_none=True, load_default=None,
                            metadata={"description": "Last day, inclusive (UTC)."})
    needs_attention = fields.Boolean(allow_none=True, load_default=None)
    number = CsvList(text(10), load_default=list,
                         metadata={"description": "Only these order numbers."})
    sort = fields.String(load_default="-placed_at",
                         validate=validate.OneOf(_sort_choices(ORDER_SORTS)))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("placed_from"), data.get("placed_to")
        if start and end and end < start:
            raise ValidationError("placed_to is before placed_from.", "placed_to")


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class OrderListQuery(OrderFilterQuery, PageQuery):
    pass


class PaymentFilterQuery(QuerySchema):
    gateway = CsvList(text(64), load_default=list)
    kind = CsvList(fields.String(validate=validate.OneOf(["charge", "refund"])),
                   load_default=list)
    status = CsvList(text(20), load_default=list)
    order = optional_text(10, metadata={"description": "An order number."})
    currency = optional_text(3)
    created_from = fields.Date(allow_none=True, load_default=None)
    created_to = fields.Date(allow_none=True, load_default=None)


class PaymentListQuery(PaymentFilterQuery, PageQuery):
    sort = fields.String(load_default="-created_at",
                         validate=validate.OneOf(_sort_choices(PAYMENT_SORTS)))


class ProductQuery(PageQuery):
    q = optional_text(200)
    category = optional_text(100)
    include_inactive = fields.Boolean(load_default=False)


# ================================================================ auth


class LoginIn(Schema):
    email = text(254, min_length=1, required=True)
    password = text(1000, min_length=1, required=True)
    token_name = text(100, min_length=1, load_default="login")


class TokenIn(Schema):
    name = text(100, min_length=1, required=True)


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
    total = fields.String(required=True)
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


class InvoiceOut(Schema):
    id = fields.Integer(required=True)
    amount = fields.String(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    description = _str()
    created_at = _str()
    paid_at = _str()


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
    message = fields.String(required=True)
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
    billing_address = fields.Dict(allow_none=True)
    language = _str()


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
    total = fields.String(required=True)
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
    sales_confirmed = fields.Boolean(allow_none=True)
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
    payments = fields.List(fields.Nested(PaymentOut), required=True)
    fraud_checks = fields.List(fields.Nested(FraudCheckOut), required=True)
    history = fields.List(fields.Nested(EventOut))


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
    message = fields.String()
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
    pages = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True)
    prev_page = fields.Integer(allow_none=True, required=True)


class OrderListOut(PageOut):
    orders = fields.List(fields.Nested(OrderSummaryOut), required=True)


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
