"""Schemas of /api/v1/customers: the list query, the edit, merge and note bodies, and the
answers (list rows, the customer page, the export and the erasure report)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ordermill.core.customers import CUSTOMER_SORTS
from ordermill.web.api.schemas.fields import (
    MAX_INT,
    json_object,
    optional_text,
    sort_choices,
    text,
)
from ordermill.web.api.schemas.inputs import PageQuery
from ordermill.web.api.schemas.outputs import OrderSummaryOut, PageOut, PaymentOut


class CustomerListQuery(PageQuery):
    q = optional_text(200, metadata={"description": "Part of a name, e-mail or company, "
                                                    "or a customer id."})
    sort = fields.String(load_default="name", validate=validate.OneOf(
        sort_choices(CUSTOMER_SORTS)))


class CustomerExportQuery(Schema):
    q = optional_text(200)
    sort = fields.String(load_default="name", validate=validate.OneOf(
        sort_choices(CUSTOMER_SORTS)))


class CustomerPatchIn(Schema):
    name = text(200, min_length=1)
    email = fields.Email(validate=validate.Length(max=254))
    phone = text(50, allow_none=True)
    company = text(200, allow_none=True)
    billing_address = json_object()
    language = text(10, min_length=2)


class MergeIn(Schema):
    merge_id = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_INT), metadata={
                                  "description": "The customer merged into this one and "
                                                 "removed."})


class NoteIn(Schema):
    text = text(10_000, min_length=1, not_blank=True, required=True)


def _str() -> fields.String:
    return fields.String(allow_none=True, required=True)


class CustomerRowOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    company = _str()
    phone = _str()
    language = fields.String(required=True)
    created_at = _str()
    orders_count = fields.Integer(required=True)
    last_order_at = _str()
    total_spent = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                              metadata={"description": "Money kept per currency: charges "
                                                       "minus refunds, e.g. {\"EUR\": \"12.50\"}"})
    erased = fields.Boolean(required=True)


class CustomerListOut(PageOut):
    customers = fields.List(fields.Nested(CustomerRowOut), required=True)


class CustomerPaymentOut(PaymentOut):
    order_number = fields.String(required=True)


class NoteOut(Schema):
    id = fields.Integer(required=True)
    author = fields.String(required=True)
    text = fields.String(required=True)
    created_at = _str()


class CustomerEventOut(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    actor = fields.String(required=True)
    message = fields.String(required=True)
    data = fields.Dict(allow_none=True)
    created_at = _str()


class CustomerOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    company = _str()
    phone = _str()
    billing_address = fields.Dict(required=True)
    language = fields.String(required=True)
    created_at = _str()
    erased = fields.Boolean(required=True)
    erased_at = _str()
    vat_id = fields.String(allow_none=True)
    country = fields.String(allow_none=True)


class CustomerDetailOut(CustomerOut):
    addresses = fields.List(fields.Dict(), required=True)
    orders = fields.List(fields.Nested(OrderSummaryOut), required=True)
    orders_count = fields.Integer(required=True)
    last_order_at = _str()
    payments = fields.List(fields.Nested(CustomerPaymentOut), required=True)
    total_spent = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    notes = fields.List(fields.Nested(NoteOut), required=True)
    history = fields.List(fields.Nested(CustomerEventOut), required=True)
    erasure = fields.Dict(allow_none=True, required=True, metadata={
        "description": "The erasure report, once the customer was erased."})


class MergeOut(Schema):
    kept_customer_id = fields.Integer(required=True)
    merged_customer_id = fields.Integer(required=True)
    merged_email = fields.String(required=True)
    merged_name = fields.String(required=True)
    orders_moved = fields.List(fields.String(), required=True)
    notes_moved = fields.Integer(required=True)
    customer = fields.Nested(CustomerDetailOut, required=True)


class ExportOut(Schema):
    format = fields.String(required=True)
    exported_at = fields.String(required=True)
    shop = fields.String(required=True)
    customer = fields.Nested(CustomerOut, required=True)
    notes = fields.List(fields.Dict(), required=True)
    history = fields.List(fields.Dict(), required=True)
    orders = fields.List(fields.Dict(), required=True, metadata={
        "description": "Each order as GET /orders/{number} shows it, history included."})
    emails_sent = fields.List(fields.Dict(), required=True)


class RetainedOut(Schema):
    invoices = fields.Integer(required=True)
    invoice_ids = fields.List(fields.Integer(), required=True)
    retention_years = fields.Integer(required=True)
    retained_until = _str()
    note = fields.String(required=True)


class ErasureOut(Schema):
    customer_id = fields.Integer(required=True)
    pseudonym = fields.String(required=True)
    pseudonym_email = fields.String(required=True)
    erased_at = fields.String(required=True)
    orders = fields.List(fields.String(), required=True)
    erased = fields.Dict(required=True)
    kept = fields.String(required=True)
    retained = fields.Nested(RetainedOut, required=True)


__all__ = ["CustomerDetailOut", "CustomerExportQuery", "CustomerListOut", "CustomerListQuery",
           "CustomerPatchIn", "ErasureOut", "ExportOut", "MergeIn", "MergeOut", "NoteIn"]
