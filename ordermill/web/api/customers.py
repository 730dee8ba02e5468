"""Customers: list (search, sort, CSV), one customer's page, edit, notes, merge, export of
their personal data and its erasure. Every rule is the core's (core/customers)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from ordermill.core import customers
from ordermill.web.api import api, documented
from ordermill.web.api.csvout import csv_response, page_fields
from ordermill.web.api.schemas.customers import (
    CustomerDetailOut,
    CustomerExportQuery,
    CustomerListOut,
    CustomerListQuery,
    CustomerPatchIn,
    ErasureOut,
    ExportOut,
    MergeIn,
    MergeOut,
    NoteIn,
)
from ordermill.web.auth import mill, require_actor

READ_ERRORS = (403, 404)
WRITE_ERRORS = (400, 403, 404, 409)


@api.get("/customers")
@api.input(CustomerListQuery, location="query", unknown=RAISE)
@api.output(CustomerListOut)
@documented(403, summary="Search, sort and page customers (orders count, spent, last order)")
def list_customers(query_data: dict[str, Any]) -> Any:
    page = customers.search_customers(mill(), actor=require_actor(), q=query_data.get("q"),
                                      sort=query_data["sort"], page=query_data["page"],
                                      per_page=query_data["per_page"])
    return {"customers": [row.to_dict() for row in page.items], **page_fields(page)}


@api.get("/customers/export.csv")
@api.input(CustomerExportQuery, location="query", unknown=RAISE)
@documented(403, summary="Customers as CSV (same search and sort as the list)",
            responses={200: {"description": "CSV, one customer per row",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_customers_csv(query_data: dict[str, Any]) -> Any:
    rows = customers.export_customers(mill(), actor=require_actor(), q=query_data.get("q"),
                                      sort=query_data["sort"])
    return csv_response(customers.CSV_COLUMNS, rows, "customers")


@api.get("/customers/<id:customer_id>")
@api.output(CustomerDetailOut)
@documented(*READ_ERRORS, summary="One customer: details, addresses, orders, payments, notes, "
                                  "history")
def get_customer(customer_id: int) -> Any:
    return customers.customer_detail(mill(), customer_id, actor=require_actor())


@api.patch("/customers/<id:customer_id>")
@api.input(CustomerPatchIn, location="json")
@api.output(CustomerDetailOut)
@documented(*WRITE_ERRORS, 422, summary="Edit the customer's details (their orders keep theirs)")
def patch_customer(customer_id: int, json_data: dict[str, Any]) -> Any:
    actor = require_actor()
    customers.update_customer(mill(), customer_id, json_data, actor=actor)
    return customers.customer_detail(mill(), customer_id, actor=actor)


@api.post("/customers/<id:customer_id>/notes")
@api.input(NoteIn, location="json")
@api.output(CustomerDetailOut, status_code=201)
@documented(*WRITE_ERRORS, 422, summary="Add a staff note about the customer")
def add_customer_note(customer_id: int, json_data: dict[str, Any]) -> Any:
    actor = require_actor()
    customers.add_note(mill(), customer_id, json_data["text"], actor=actor)
    return customers.customer_detail(mill(), customer_id, actor=actor), 201


@api.post("/customers/<id:customer_id>/merge")
@api.input(MergeIn, location="json")
@api.output(MergeOut)
@documented(*WRITE_ERRORS, 422, summary="Merge another customer into this one (orders, "
                                        "payments, notes move; the other is removed)")
def merge_customer(customer_id: int, json_data: dict[str, Any]) -> Any:
    actor = require_actor()
    result = customers.merge_customers(mill(), customer_id, json_data["merge_id"], actor=actor)
    return {**result, "customer": customers.customer_detail(mill(), customer_id, actor=actor)}


@api.post("/customers/<id:customer_id>/export")
@api.output(ExportOut)
@documented(*WRITE_ERRORS, summary="Everything ordermill holds about the customer (access "
                                   "request, GDPR article 15)")
def export_customer(customer_id: int) -> Any:
    return customers.export_customer(mill(), customer_id, actor=require_actor())


@api.post("/customers/<id:customer_id>/erase")
@api.output(ErasureOut)
@documented(*WRITE_ERRORS, summary="Erase the customer's personal data for good (GDPR "
                                   "article 17); issued invoices are retained")
def erase_customer(customer_id: int) -> Any:
    return customers.erase_customer(mill(), customer_id, actor=require_actor())
