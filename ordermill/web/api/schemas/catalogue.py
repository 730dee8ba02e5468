"""Schemas of the catalogue endpoints: products, stock, CSV import, promo codes.

Inputs check shapes and bounds (money as decimal strings, whole numbers, lengths); the
core's catalogue actions check the rest (currencies, duplicate skus, unknown products in a
restriction), so the API, the CLI and the CSV import refuse the same things. Patch schemas
have no defaults: only the fields sent are changed.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ordermill.core.catalogue.product_input import KINDS
from ordermill.core.catalogue_models import ADJUSTMENT_REASONS
from ordermill.core.models import TAX_CLASSES
from ordermill.web.api.schemas.fields import MAX_INT, MoneyText, money, text

COUNT = validate.Range(min=0, max=1_000_000_000)


def _maybe(max_length: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


def _prices(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(equal=3)),
                       values=MoneyText(), metadata={"description": description,
                                                     "example": {"USD": "14.00"}})


class ProductPatchIn(Schema):
    sku = text(64, min_length=1)
    name = text(200, min_length=1)
    kind = fields.String(validate=validate.OneOf(KINDS))
    category = _maybe(100)
    price = money(metadata={"description": "In the product's currency."})
    currency = fields.String(validate=validate.Length(equal=3),
                             metadata={"description": "ISO 4217; default the shop's."})
    prices = _prices("Prices in other currencies; replaces the ones there were.")
    tax_class = fields.String(validate=validate.OneOf(TAX_CLASSES))
    stock = fields.Integer(allow_none=True, validate=COUNT, metadata={
        "description": "Units for sale; null: unlimited. A change is a 'counted' ledger row."})
    low_stock_threshold = fields.Integer(allow_none=True, validate=COUNT)
    billing_cycle = _maybe(20)
    provisioning_module = _maybe(64)
    event_date = fields.AwareDateTime(allow_none=True, default_timezone=None)
    venue = _maybe(200)
    image_url = _maybe(500)
    active = fields.Boolean()


class ProductIn(ProductPatchIn):
    sku = text(64, min_length=1, required=True)
    name = text(200, min_length=1, required=True)
    price = money(required=True, metadata={"description": "In the product's currency."})


class CatalogueEventOut(Schema):
    type = fields.String(required=True)
    actor = fields.String(required=True)
    message = fields.String(required=True)
    data = fields.Dict(required=True)
    created_at = fields.String(required=True)


class MovementOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={
        "description": "opening, adjustment, hold, release or write_off"})
    reason = fields.String(allow_none=True, required=True)
    change = fields.Integer(required=True)
    units = fields.Integer(required=True)
    order_number = fields.String(allow_none=True, required=True)
    actor = fields.String(required=True)
    note = fields.String(allow_none=True, required=True)
    created_at = fields.String(required=True)


class ProductDetailOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    category = fields.String(allow_none=True, required=True)
    price = fields.String(required=True)
    currency = fields.String(required=True)
    prices = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    tax_class = fields.String(required=True)
    stock = fields.Integer(allow_none=True, required=True)
    low_stock_threshold = fields.Integer(allow_none=True, required=True)
    low_stock = fields.Boolean(required=True)
    billing_cycle = fields.String(allow_none=True, required=True)
    provisioning_module = fields.String(allow_none=True, required=True)
    event_date = fields.String(allow_none=True, required=True)
    venue = fields.String(allow_none=True, required=True)
    image_url = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    history = fields.List(fields.Nested(CatalogueEventOut))
    ledger = fields.List(fields.Nested(MovementOut))
    changes = fields.Dict(metadata={"description": "{field: [before, after]} of an edit"})
    message = fields.String()


class StockIn(Schema):
    change = fields.Integer(validate=validate.Range(min=-MAX_INT, max=MAX_INT), metadata={
        "description": "Units to add (+N) or take (-N); or send `count`."})
    count = fields.Integer(validate=COUNT, metadata={
        "description": "An absolute count; the ledger records the difference."})
    reason = fields.String(validate=validate.OneOf(ADJUSTMENT_REASONS))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class StockOut(Schema):
    sku = fields.String(required=True)
    change = fields.Integer(required=True)
    reason = fields.String(required=True)
    stock = fields.Integer(required=True)
    message = fields.String(required=True)


class LedgerOut(Schema):
    sku = fields.String(required=True)
    stock = fields.Integer(allow_none=True, required=True)
    ledger_total = fields.Integer(required=True)
    movements = fields.List(fields.Nested(MovementOut), required=True)


class ImportIn(Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=5_000_000),
                        metadata={"description": "The CSV text, header row first."})


class ImportRowOut(Schema):
    row = fields.Integer(required=True)
    sku = fields.String(required=True)
    action = fields.String(required=True, metadata={
        "description": "created, updated, unchanged or refused"})
    changes = fields.Dict()
    reason = fields.String()


class ImportOut(Schema):
    dry_run = fields.Boolean(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    rows = fields.List(fields.Nested(ImportRowOut), required=True)


class PromoPatchIn(Schema):
    kind = fields.String(validate=validate.OneOf(("percent", "fixed")))
    percent = fields.String(validate=validate.Regexp(r"^[0-9]{1,3}(\.[0-9]{1,2})?$"),
                            metadata={"example": "10", "description": "For kind percent."})
    amounts = _prices("For kind fixed: the amount off per currency.")
    valid_from = fields.AwareDateTime(allow_none=True, default_timezone=None)
    valid_until = fields.AwareDateTime(allow_none=True, default_timezone=None)
    usage_limit = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_INT))
    per_customer_limit = fields.Integer(allow_none=True,
                                        validate=validate.Range(min=1, max=MAX_INT))
    min_subtotal = _prices("The order subtotal needed, per currency.")
    products = fields.List(text(64), metadata={"description": "Only for these skus."})
    categories = fields.List(text(100), metadata={"description": "Only for these categories."})
    first_order_only = fields.Boolean()
    combinable = fields.Boolean(metadata={
        "description": "false: refused on lines with a staff price override."})
    active = fields.Boolean()


class PromoIn(PromoPatchIn):
    code = text(64, min_length=1, required=True)


class PromoOut(Schema):
    code = fields.String(required=True)
    kind = fields.String(required=True)
    active = fields.Boolean(required=True)
    percent = fields.String(allow_none=True, required=True)
    amounts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    valid_from = fields.String(allow_none=True, required=True)
    valid_until = fields.String(allow_none=True, required=True)
    usage_limit = fields.Integer(allow_none=True, required=True)
    per_customer_limit = fields.Integer(allow_none=True, required=True)
    times_used = fields.Integer(required=True)
    min_subtotal = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    products = fields.List(fields.String(), required=True)
    categories = fields.List(fields.String(), required=True)
    first_order_only = fields.Boolean(required=True)
    combinable = fields.Boolean(required=True)
    created_at = fields.String(required=True)


class PromoDetailOut(PromoOut):
    """One promo code: with its history when shown, its changes and message after an edit."""

    history = fields.List(fields.Nested(CatalogueEventOut))
    changes = fields.Dict()
    message = fields.String()


class PromoListOut(Schema):
    promo_codes = fields.List(fields.Nested(PromoOut), required=True)


__all__ = ["ImportIn", "ImportOut", "LedgerOut", "ProductDetailOut", "ProductIn",
           "ProductPatchIn", "PromoDetailOut", "PromoIn", "PromoListOut",
           "PromoOut", "PromoPatchIn", "StockIn",
           "StockOut"]
