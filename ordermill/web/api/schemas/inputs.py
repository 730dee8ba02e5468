"""Request schemas: bodies of placing and of every action, query parameters of the lists,
login. They refuse unknown fields; placing and the order lists also accept the fields and
filters plugins register (schemas/plugin_fields.py).
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import lazy_gettext
from ordermill.core.queries import MAX_PER_PAGE, ORDER_SORTS, PAYMENT_SORTS, PAYMENT_STATUSES
from ordermill.web.api.schemas.fields import (
    MAX_INT,
    CsvList,
    QuerySchema,
    in_year_range,
    json_object,
    listed_text,
    money,
    optional_text,
    sort_choices,
    text,
    version_field,
)
from ordermill.web.api.schemas.plugin_fields import PluginListFilters, PluginRequestFields

# ================================================================ placing orders


class CustomerIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200, min_length=1, required=True)
    phone = optional_text(50)
    company = optional_text(200)
    billing_address = json_object(load_default=dict, metadata={
        "description": "line1, line2, postcode, city, country; country is an ISO 3166-1 "
                       "alpha-2 code (the tax destination), checked at placement"})
    language = text(10, min_length=2, load_default="en")
    vat_id = optional_text(40, metadata={
        "description": "The buyer's VAT number (B2B), e.g. DE136695976: a tax plugin may "
                       "reverse-charge with it, or refuse an invalid one."})


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


class PlaceIn(PluginRequestFields):
    customer = fields.Nested(CustomerIn, required=True)
    lines = fields.List(fields.Nested(LineIn), required=True,
                        validate=validate.Length(min=1, max=200))
    payment_method = text(64, min_length=1, required=True)
    promo_code = optional_text(64)
    currency = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(equal=3),
                             metadata={"description": "The currency to place the order in "
                                                      "(every product needs a price in it); "
                                                      "default the shop's."})
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
                                 error=lazy_gettext("Use 1 to 150 visible ASCII characters, "
                                                    "such as a UUID.")),
        metadata={"description": "Retry-safe placing: the same key and body answer the first "
                                 "response and create one order."})


# ================================================================ actions


class DryRunQuery(QuerySchema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Answer with what the action would do, and change nothing."})


class ActionIn(Schema):
    expected_version = version_field()
    comment = optional_text(5000)


class AcceptIn(ActionIn):
    options = json_object(load_default=dict, metadata={
        "description": "Provisioning options (server, username, password, registrar, ...)."})


class LineQuantityIn(Schema):
    id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1),
                        metadata={"description": "A line id of the order."})
    quantity = fields.Integer(strict=True, required=True,
                              validate=validate.Range(min=1, max=100_000),
                              metadata={"description": "How many of the line's units; fewer "
                                        "than all splits them off into a line of their own "
                                        "(parent_line_id)."})


class ChosenLinesMixin(Schema):
    line_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                           allow_none=True, load_default=None,
                           validate=validate.Length(min=1, max=500),
                           metadata={"description": "Whole lines. Not with `lines`."})
    lines = fields.List(fields.Nested(LineQuantityIn), allow_none=True, load_default=None,
                        validate=validate.Length(min=1, max=500),
                        metadata={"description": "Lines with a quantity each, e.g. "
                                  '[{"id": 7, "quantity": 1}] for 1 of 3 tickets. Not with '
                                  "`line_ids`."})


class LineIdsMixin(ChosenLinesMixin):
    restock = fields.Boolean(load_default=True)
    notify_customer = fields.Boolean(load_default=True)


class CancelIn(ActionIn, LineIdsMixin):
    pass


class RefundIn(ActionIn, LineIdsMixin):
    amount = money(positive=True, allow_none=True, load_default=None)
    manual = fields.Boolean(load_default=False, metadata={
        "description": "Record the refund without calling any gateway (return the money by "
                       "hand), e.g. after the gateway failed or is not configured."})


class CancelAndRefundIn(ActionIn, ChosenLinesMixin):
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
    text = text(10_000, min_length=1, not_blank=True, required=True)
    notify_customer = fields.Boolean(load_default=False)
    visible_to_customer = fields.Boolean(load_default=False)
    expected_version = version_field()


class FulfilIn(ActionIn):
    at = fields.AwareDateTime(allow_none=True, load_default=None, validate=in_year_range,
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


class OrderFilterQuery(PluginListFilters, QuerySchema):
    q = optional_text(200, metadata={"description": "Buyer name, e-mail or order number."})
    status = CsvList(listed_text(40), load_default=list)
    payment_status = CsvList(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)),
                             load_default=list)
    payment_method = CsvList(listed_text(64), load_default=list)
    promo_code = optional_text(64)
    sku = optional_text(64)
    category = optional_text(100)
    placed_from = fields.Date(allow_none=True, load_default=None,
                              metadata={"description": "First day, inclusive (UTC)."})
    placed_to = fields.Date(allow_none=True, load_default=None,
                            metadata={"description": "Last day, inclusive (UTC)."})
    needs_attention = fields.Boolean(allow_none=True, load_default=None)
    number = CsvList(listed_text(10), load_default=list, sent_max_length=1099,
                     metadata={"description": "Only these order numbers (repeat the "
                                              "parameter, or separate up to 100 by commas)."})
    sort = fields.String(load_default="-placed_at",
                         validate=validate.OneOf(sort_choices(ORDER_SORTS)))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("placed_from"), data.get("placed_to")
        if start and end and end < start:
            raise ValidationError(_("placed_to is before placed_from."), "placed_to")


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class OrderListQuery(OrderFilterQuery, PageQuery):
    after = optional_text(200, metadata={
        "description": "The `next_cursor` of the page before (same filters and sort): the "
                       "next page, read from the index however deep (`page` is then "
                       "ignored)."})


class PaymentFilterQuery(QuerySchema):
    gateway = CsvList(listed_text(64), load_default=list)
    kind = CsvList(fields.String(validate=validate.OneOf(["charge", "refund"])),
                   load_default=list)
    status = CsvList(listed_text(20), load_default=list)
    order = optional_text(10, metadata={"description": "An order number."})
    currency = optional_text(3)
    created_from = fields.Date(allow_none=True, load_default=None)
    created_to = fields.Date(allow_none=True, load_default=None)


class PaymentListQuery(PaymentFilterQuery, PageQuery):
    sort = fields.String(load_default="-created_at",
                         validate=validate.OneOf(sort_choices(PAYMENT_SORTS)))


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
