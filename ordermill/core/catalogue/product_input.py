"""A product's fields as the edges send them (JSON, CLI, a CSV row), read into column values.

Partial for edits: only the fields given are read. Money is a decimal string in the
product's currency; `prices` adds prices in other currencies; `stock` is a count or null
(unlimited).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordermill.core.catalogue import fields
from ordermill.core.catalogue.fields import refuse
from ordermill.core.models import TAX_CLASSES, Product

KINDS = ("physical", "ticket", "service", "domain", "digital")
PRODUCT_FIELDS = ("sku", "name", "kind", "category", "price", "currency", "prices",
                  "tax_class", "stock", "billing_cycle", "provisioning_module", "event_date",
                  "venue", "image_url", "low_stock_threshold", "active")
RESERVED_SKUS = ("export.csv", "import", "new")  # /products/<these> are routes (API, admin)
UNLIMITED_TEXT = ("unlimited", "none", "null", "")


def read_product(data: Mapping[str, Any], existing: Product | None, default_currency: str
                 ) -> dict[str, Any]:
    """{column: value} for the given fields; a new product needs sku, name and price (in
    the shop's currency unless `currency` says otherwise)."""
    fields.unknown_fields(data, PRODUCT_FIELDS)
    new = existing is None
    values: dict[str, Any] = {}
    if new or "sku" in data:
        sku = fields.text(data, "sku", 64, required=True)
        assert sku is not None
        if sku in RESERVED_SKUS:
            raise refuse("sku", f"{sku!r} is reserved (a catalogue address); choose another.")
        if not fields.SKU_PATTERN.match(sku):
            raise refuse("sku", f"{sku!r} may use only letters, digits, '.', '_' and '-' "
                                f"(64 at most).")
        values["sku"] = sku
    if new or "name" in data:
        values["name"] = fields.text(data, "name", 200, required=True)
    if new or "kind" in data:
        values["kind"] = fields.choice(data, "kind", KINDS, default="physical")
    if "category" in data:
        values["category"] = fields.text(data, "category", 100)
    if new or "currency" in data:
        values["currency"] = fields.currency(data, "currency") \
            or (existing.currency if existing else default_currency)
    currency = values.get("currency") or (existing.currency if existing else None)
    if new or "price" in data:
        if currency is None:
            raise refuse("currency", "is required with a price.")
        values["price"] = fields.money(data.get("price"), currency, "price")
    elif "currency" in data and existing is not None and values["currency"] != existing.currency:
        raise refuse("price", "give the price in the new currency too.")
    if "prices" in data:
        extra = fields.money_map(data, "prices") or {}
        if currency in extra and extra[currency] != values.get("price", extra[currency]):
            raise refuse(f"prices.{currency}", "is the main currency; set it as `price`.")
        extra.pop(currency, None)
        values["prices"] = extra
    if new or "tax_class" in data:
        values["tax_class"] = fields.choice(data, "tax_class", TAX_CLASSES, default="standard")
    if new or "stock" in data:
        values["stock"] = read_stock(data.get("stock"))
    for name, limit in (("billing_cycle", 20), ("provisioning_module", 64), ("venue", 200)):
        if name in data:
            values[name] = fields.text(data, name, limit)
    if "image_url" in data:
        url = fields.text(data, "image_url", 500)
        if url is not None and not url.startswith(("https://", "http://", "/")):
            raise refuse("image_url", "must be an http(s) address or a path such as "
                                      "/static/shirt.png.")
        values["image_url"] = url
    if "event_date" in data:
        values["event_date"] = fields.when(data, "event_date")
    if "low_stock_threshold" in data:
        values["low_stock_threshold"] = fields.whole(data, "low_stock_threshold")
    if "active" in data:
        values["active"] = fields.flag(data, "active", True)
    return values


def read_stock(value: object) -> int | None:
    """A stock count (0 or more), or None for unlimited (null, "", "unlimited")."""
    if value is None or (isinstance(value, str) and value.strip().lower() in UNLIMITED_TEXT):
        return None
    return fields.whole({"stock": value}, "stock")
