"""Answer schemas of pricing: adjustments (price_adjustments), a refund's tax per rate, and
the price a dry run of placement shows."""

from __future__ import annotations

from marshmallow import Schema, fields


class AdjustmentOut(Schema):
    stage = fields.String(required=True, metadata={"enum": ["discount", "tax", "fee",
                                                            "fee_tax"]})
    kind = fields.String(required=True, metadata={"enum": ["discount", "tax", "fee",
                                                           "shipping"]})
    label = fields.String(required=True)
    amount = fields.String(required=True, metadata={
        "description": "Positive; the kind says which way it moves the total."})
    line_id = fields.Integer(allow_none=True)
    rate = fields.String(allow_none=True, metadata={"description": "Tax rate in percent.",
                                                    "example": "20"})
    code = fields.String(allow_none=True, metadata={"example": "reverse_charge"})
    included = fields.Boolean(required=True, metadata={
        "description": "Tax contained in the line price (prices entered gross): shown, "
                       "not added."})
    source = fields.String(required=True, metadata={
        "description": "The plugin that made it; core for the promo code."})


class RefundTaxOut(Schema):
    part = fields.String(required=True, metadata={"enum": ["goods", "fees"]})
    rate = fields.String(allow_none=True)
    net = fields.String(required=True)
    tax = fields.String(required=True)


class PricedLineOut(Schema):
    id = fields.Integer(allow_none=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    discount = fields.String(required=True)
    tax = fields.String(required=True)
    total = fields.String(required=True)


class PricingOut(Schema):
    """The price of a placement (dry run or not): totals, lines and every adjustment."""

    currency = fields.String(required=True)
    subtotal = fields.String(required=True)
    discount = fields.String(required=True)
    fee_total = fields.String(required=True)
    tax_total = fields.String(required=True)
    total_excl_tax = fields.String(required=True)
    total = fields.String(required=True)
    lines = fields.List(fields.Nested(PricedLineOut), required=True)
    adjustments = fields.List(fields.Nested(AdjustmentOut), required=True)
