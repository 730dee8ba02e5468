"""Reference data and the payments tab: statuses, products, plugins, payments (+ CSV)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from ordermill.core import queries
from ordermill.core.permissions import require
from ordermill.web.api import api, documented
from ordermill.web.api.csvout import csv_response, day_range, page_fields
from ordermill.web.api.schemas import (
    PaymentFilterQuery,
    PaymentListOut,
    PaymentListQuery,
    PluginListOut,
    ProductListOut,
    ProductQuery,
    StatusListOut,
)
from ordermill.web.auth import mill, require_actor


@api.get("/statuses")
@api.output(StatusListOut)
@documented(403, summary="The status registry: built-in and custom statuses, their moves")
def statuses() -> Any:
    require(require_actor(), "view_orders")
    registry = mill().statuses
    return {"statuses": [
        {"name": spec.name, "label": spec.label, "category": spec.category,
         "colour": spec.colour, "description": spec.description,
         "transitions": sorted(registry.targets(spec.name)), "owner": registry.owner(spec.name)}
        for spec in registry
    ]}


@api.get("/products")
@api.input(ProductQuery, location="query", unknown=RAISE)
@api.output(ProductListOut)
@documented(403, summary="The product catalogue")
def products(query_data: dict[str, Any]) -> Any:
    page = queries.list_products(
        mill(), actor=require_actor(), q=query_data.get("q"),
        category=query_data.get("category"), include_inactive=query_data["include_inactive"],
        page=query_data["page"], per_page=query_data["per_page"])
    return {"products": page.items, **page_fields(page)}


@api.get("/plugins")
@api.output(PluginListOut)
@documented(403, summary="Loaded plugins, where from, and the hooks each implements")
def plugins() -> Any:
    require(require_actor(), "view_orders")
    host = mill().plugins
    return {"plugins": [info.to_dict() for info in host.plugin_infos()],
            "failures": [{"name": f.name, "distribution": f.distribution, "error": f.error}
                         for f in host.failures]}


def _payment_filters(data: dict[str, Any]) -> queries.PaymentFilters:
    start, end = day_range(data.get("created_from"), data.get("created_to"))
    return queries.PaymentFilters(
        gateways=tuple(data["gateway"]), kinds=tuple(data["kind"]),
        statuses=tuple(data["status"]), order_number=data.get("order"),
        currency=data.get("currency"), created_from=start, created_before=end)


@api.get("/payments")
@api.input(PaymentListQuery, location="query", unknown=RAISE)
@api.output(PaymentListOut)
@documented(403, summary="Payments: every charge and refund, with its order")
def payments(query_data: dict[str, Any]) -> Any:
    page = queries.list_payments(mill(), _payment_filters(query_data), actor=require_actor(),
                                 sort=query_data["sort"], page=query_data["page"],
                                 per_page=query_data["per_page"])
    return {"payments": page.items, **page_fields(page)}


@api.get("/payments/export.csv")
@api.input(PaymentFilterQuery, location="query", unknown=RAISE)
@documented(403, summary="Payments as CSV (same filters as the list)",
            responses={200: {"description": "CSV, one payment per row",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def payments_csv(query_data: dict[str, Any]) -> Any:
    rows = queries.export_payments(mill(), _payment_filters(query_data), actor=require_actor())
    return csv_response(queries.PAYMENT_CSV_COLUMNS, rows, "payments")
