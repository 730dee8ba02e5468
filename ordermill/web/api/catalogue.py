"""Products: create, show, edit, archive, adjust stock, the stock ledger, CSV import/export.

Views only translate: JSON in, a `mill.catalogue` action, JSON out. `?dry_run=true` answers
what the action would do and changes nothing; creates honour an Idempotency-Key like placing
an order does (the same key and body answer the first response and create one product).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.blueprints import BlueprintSetupState
from marshmallow import RAISE
from werkzeug.routing import BaseConverter

from ordermill.core import queries
from ordermill.core.catalogue.csv_import import CSV_COLUMNS
from ordermill.core.i18n import N_
from ordermill.core.i18n import gettext as _
from ordermill.web.api import api, documented
from ordermill.web.api.csvout import csv_response
from ordermill.web.api.openapi import live_enum
from ordermill.web.api.orders import IdempotencyKeyReused, _caller, _fingerprint
from ordermill.web.api.schemas import DryRunQuery, IdempotencyHeaders
from ordermill.web.api.schemas.catalogue import (
    ImportIn,
    ImportOut,
    LedgerOut,
    ProductDetailOut,
    ProductIn,
    ProductPatchIn,
    StockIn,
    StockOut,
    document_catalogue_rules,
)
from ordermill.web.auth import mill, require_actor

WRITE_ERRORS = (400, 403, 404, 409)


def dry_run_answer(schema: str) -> dict[int, Any]:
    """The 200 a create answers with ?dry_run=true (the real create answers 201)."""
    return {200: {"description": "Dry run: what would be created; nothing was saved.",
                  "content": {"application/json": {
                      "schema": {"$ref": f"#/components/schemas/{schema}"}}}}}
#: English source texts per kind of thing created, translated when the refusal is made
REUSED_KEY = {
    "product": N_("This Idempotency-Key was already used with a different request body. Use "
                  "a new key for a new product."),
    "promo code": N_("This Idempotency-Key was already used with a different request body. "
                     "Use a new key for a new promo code."),
}


def _document(state: BlueprintSetupState) -> None:
    """Add the catalogue's document rules after the others (see document_catalogue_rules)."""
    app = state.app
    previous = getattr(app, "spec_callback", None)

    def process(spec: dict[str, Any]) -> dict[str, Any]:
        return document_catalogue_rules(previous(spec) if previous else spec)

    app.spec_callback = process  # type: ignore[attr-defined]


def _shop_currencies(app: Any) -> list[str]:
    mill_ = app.extensions.get("ordermill")
    try:
        return sorted(queries.shop_currencies(mill_)) if mill_ is not None else []
    except Exception:  # no schema yet (the document made before `ordermill init`)
        return [mill_.settings.default_currency]


class SkuConverter(BaseConverter):
    """`<sku:sku>`: a product's sku; never `export.csv` or `import`, the catalogue's own
    routes beside it (the core refuses those two as skus)."""

    regex = r"(?!(?:export\.csv|import)$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}"


def _install_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("sku", SkuConverter)


api.record_once(_install_converter)  # before the routes below use it
api.record_once(_document)
live_enum("PlaceIn", "currency", _shop_currencies)


def idempotent(scope: str, what: str, headers_data: dict[str, Any], dry_run: bool,
               create: Callable[[], dict[str, Any]]) -> Any:
    """Run a create once per Idempotency-Key (per caller); replay the first answer."""
    actor = require_actor()
    key = headers_data.get("idempotency_key")
    if not key or dry_run:
        return create(), 200 if dry_run else 201
    caller, fingerprint = _caller(actor, ""), _fingerprint()
    record = queries.find_idempotency_record(mill(), scope, key, caller)
    if record is not None:
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(_(REUSED_KEY[what]),
                                       details={"idempotency_key": key})
        return record.response, record.status_code, {"Idempotent-Replayed": "true"}
    body = create()
    saved = queries.save_idempotency_record(mill(), scope=scope, caller=caller, key=key,
                                            fingerprint=fingerprint, status_code=201,
                                            response=body)
    return saved.response, saved.status_code


@api.post("/products")
@api.input(IdempotencyHeaders, location="headers", arg_name="headers_data")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(ProductIn, location="json")
@api.output(ProductDetailOut, status_code=201)
@documented(*WRITE_ERRORS, responses=dry_run_answer("ProductDetailOut"),
            summary="Create a product (manage_catalogue); honours Idempotency-Key")
def create_product(headers_data: dict[str, Any], query_data: dict[str, Any],
                   json_data: dict[str, Any]) -> Any:
    dry_run = query_data["dry_run"]
    return idempotent("POST /api/v1/products", "product", headers_data, dry_run,
                      lambda: mill().catalogue.products.create(
                          json_data, actor=require_actor(), dry_run=dry_run))


@api.get("/products/export.csv")
@documented(403, summary="The catalogue as CSV, in the columns the import reads",
            responses={200: {"description": "CSV, one product per row",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_products() -> Any:
    rows = mill().catalogue.csv.export_rows(actor=require_actor())
    return csv_response(list(CSV_COLUMNS), rows, "products")


@api.post("/products/import")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(ImportIn, location="json")
@api.output(ImportOut)
@documented(400, 403, summary="Import products from CSV; dry run first to see what it "
                              "creates, updates or refuses")
def import_products(query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    return mill().catalogue.csv.import_csv(json_data["csv"], actor=require_actor(),
                                           dry_run=query_data["dry_run"])


@api.get("/products/<sku:sku>")
@api.output(ProductDetailOut)
@documented(403, 404, summary="A product with its prices, history and latest stock movements")
def show_product(sku: str) -> Any:
    return mill().catalogue.products.get(sku, actor=require_actor())


@api.patch("/products/<sku:sku>")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(ProductPatchIn, location="json")
@api.output(ProductDetailOut)
@documented(*WRITE_ERRORS, summary="Edit a product: only the fields sent change")
def edit_product(sku: str, query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    return mill().catalogue.products.update(sku, json_data, actor=require_actor(),
                                            dry_run=query_data["dry_run"])


@api.post("/products/<sku:sku>/archive")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.output(ProductDetailOut)
@documented(*WRITE_ERRORS, summary="Archive a product: no longer for sale, never deleted")
def archive_product(sku: str, query_data: dict[str, Any]) -> Any:
    return mill().catalogue.products.archive(sku, actor=require_actor(),
                                             dry_run=query_data["dry_run"])


@api.post("/products/<sku:sku>/stock")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(StockIn, location="json")
@api.output(StockOut)
@documented(*WRITE_ERRORS, summary="Adjust stock: +N/-N with a reason, or an absolute count")
def adjust_stock(sku: str, query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    return mill().catalogue.products.adjust_stock(
        sku, actor=require_actor(), change=json_data.get("change"),
        count=json_data.get("count"), reason=json_data.get("reason"),
        note=json_data.get("note"), dry_run=query_data["dry_run"])


@api.get("/products/<sku:sku>/ledger")
@api.output(LedgerOut)
@documented(403, 404, summary="The stock ledger: every movement of a product's stock")
def product_ledger(sku: str) -> Any:
    return mill().catalogue.products.ledger(sku, actor=require_actor())
