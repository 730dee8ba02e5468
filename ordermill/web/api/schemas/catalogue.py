"""Schemas of the catalogue endpoints: products, stock, CSV import, promo codes.

Inputs check shapes and bounds (money as decimal strings, whole numbers, lengths); the
core's catalogue actions check the rest (currencies, duplicate skus, unknown products in a
restriction), so the API, the CLI and the CSV import refuse the same things. Patch schemas
have no defaults: only the fields sent are changed.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ordermill.core.catalogue.fields import CODE_PATTERN, SKU_PATTERN
from ordermill.core.catalogue.product_input import KINDS
from ordermill.core.catalogue_models import ADJUSTMENT_REASONS
from ordermill.core.i18n import lazy_gettext
from ordermill.core.models import TAX_CLASSES
from ordermill.core.money import _known_currencies
from ordermill.web.api.schemas.fields import (
    NOT_BLANK,
    MoneyText,
    in_year_range,
    money,
    text,
)

COUNT = validate.Range(min=0, max=1_000_000_000)
CHANGE = validate.Range(min=-1_000_000_000, max=1_000_000_000)
LIMIT = validate.Range(min=1, max=1_000_000_000)
PERCENT_PATTERN = (r"^(100(\.00?)?|[1-9][0-9]?(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$")
YEAR_PATTERN = "^(19[7-9][0-9]|2[01][0-9][0-9])-"  # the dates in_year_range allows


def _when() -> fields.AwareDateTime:
    return fields.AwareDateTime(allow_none=True, default_timezone=None, validate=in_year_range)


def _currency() -> fields.String:
    return fields.String(validate=validate.OneOf(
        sorted(_known_currencies()),
        error=lazy_gettext("Unknown currency {input!r}: use an ISO 4217 code such as EUR or "
                           "USD.")),
                         metadata={"description": "ISO 4217; default the shop's."})


def _maybe(max_length: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


def _prices(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(equal=3)),
                       values=MoneyText(), metadata={"description": description,
                                                     "example": {"USD": "14.00"}})


class ProductPatchIn(Schema):
    """A product's editable fields (its sku never changes: orders refer to it)."""

    name = fields.String(validate=[validate.Length(min=1, max=200), NOT_BLANK])
    kind = fields.String(validate=validate.OneOf(KINDS))
    category = _maybe(100)
    price = money(metadata={"description": "In the product's currency."})
    currency = _currency()
    prices = _prices("Prices in other currencies; replaces the ones there were.")
    tax_class = fields.String(validate=validate.OneOf(TAX_CLASSES))
    stock = fields.Integer(allow_none=True, validate=COUNT, metadata={
        "description": "Units for sale; null: unlimited. A change is a 'counted' ledger row."})
    low_stock_threshold = fields.Integer(allow_none=True, validate=COUNT)
    billing_cycle = _maybe(20)
    provisioning_module = _maybe(64)
    event_date = _when()
    venue = _maybe(200)
    image_url = fields.String(allow_none=True, validate=[
        validate.Length(max=500), validate.Regexp(r"^(https?://|/)", error=lazy_gettext(
            "Use an http(s) address or a path such as /shirt.png."))])
    active = fields.Boolean()


class ProductIn(ProductPatchIn):
    sku = fields.String(required=True, validate=validate.Regexp(
        r"^(?!(?:export\.csv|import|new)$)" + SKU_PATTERN.pattern.lstrip("^"),
        error=lazy_gettext("Letters, digits, '.', '_' and '-' (64 at most); not export.csv, "
                           "import or new.")))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
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
    change = fields.Integer(validate=CHANGE, metadata={
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
    percent = fields.String(validate=validate.Regexp(PERCENT_PATTERN, error=lazy_gettext(
        "A percentage more than 0 and at most 100, e.g. 12.5.")),
                            metadata={"example": "10", "description": "For kind percent."})
    amounts = _prices("For kind fixed: the amount off per currency.")
    valid_from = _when()
    valid_until = _when()
    usage_limit = fields.Integer(allow_none=True, validate=LIMIT)
    per_customer_limit = fields.Integer(allow_none=True, validate=LIMIT)
    min_subtotal = _prices("The order subtotal needed, per currency.")
    products = fields.List(text(64), metadata={"description": "Only for these skus."})
    categories = fields.List(text(100), metadata={"description": "Only for these categories."})
    first_order_only = fields.Boolean()
    combinable = fields.Boolean(metadata={
        "description": "false: refused on lines with a staff price override."})
    active = fields.Boolean()


class PromoIn(PromoPatchIn):
    code = fields.String(required=True, validate=validate.Regexp(
        CODE_PATTERN.pattern, error=lazy_gettext("Letters, digits, '_' and '-' (64 at most).")))


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



def document_catalogue_rules(spec: dict[str, Any]) -> dict[str, Any]:
    """What the marshmallow schemas cannot say in the document: a stock adjustment is a
    change with a reason or a count (never both, never a change of 0), and dates lie in the
    years in_year_range allows."""
    schemas = spec.get("components", {}).get("schemas", {})
    stock = schemas.get("StockIn")
    if stock is not None:
        stock["oneOf"] = [{"required": ["change", "reason"], "not": {"required": ["count"]}},
                          {"required": ["count"], "not": {"required": ["change"]}}]
        stock["properties"]["change"]["not"] = {"enum": [0]}
        adjust = spec.get("paths", {}).get("/api/v1/products/{sku}/stock", {}).get("post", {})
        if "requestBody" in adjust:
            adjust["requestBody"]["required"] = True
    for name, dates in (("ProductIn", ("event_date",)), ("ProductPatchIn", ("event_date",)),
                        ("PromoIn", ("valid_from", "valid_until")),
                        ("PromoPatchIn", ("valid_from", "valid_until"))):
        for field in dates:
            prop = schemas.get(name, {}).get("properties", {}).get(field)
            if prop is not None:
                prop["pattern"] = YEAR_PATTERN
    return spec


__all__ = [
    "ImportIn",
    "ImportOut",
    "LedgerOut",
    "ProductDetailOut",
    "ProductIn",
    "ProductPatchIn",
    "PromoDetailOut",
    "PromoIn",
    "PromoListOut",
    "PromoOut",
    "PromoPatchIn",
    "StockIn",
    "StockOut",
    "document_catalogue_rules",
]
