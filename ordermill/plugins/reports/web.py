"""The reports API and the admin's "Reports" page (registered by `register_blueprints`).

    GET /api/v1/reports                  the reports this app offers, with their columns
    GET /api/v1/reports/<name>           one report: rows and totals (JSON)
    GET /api/v1/reports/<name>.csv       the same as CSV
    GET /admin/reports/                  the Reports page (tabs, filters, table, chart, CSV)

Every one takes ?from=YYYY-MM-DD&to=YYYY-MM-DD&currency=EUR&gateway=stripe&sort=-net and
needs `view_reports` (checked by `service.run_report`).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required
from marshmallow import RAISE, Schema, fields

from ordermill.api import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    admin_actor,
    documented,
    request_mill,
    require,
    require_actor,
    text_field,
)
from ordermill.plugins.reports import csvout, service
from ordermill.plugins.reports.chart import chart_of
from ordermill.plugins.reports.definitions import KEY, parse_filters
from ordermill.plugins.reports.i18n import i18n_context

reports_api = APIBlueprint("reports", __name__, url_prefix="/api/v1", tag="reports")
reports_admin = Blueprint("reports_admin", __name__, url_prefix="/admin/reports",
                          template_folder="templates")
reports_admin.enable_openapi = False  # type: ignore[attr-defined]  # no API
CSV_ANSWER = {200: {"description": "CSV: a header of column names, the rows, the totals",
                    "content": {"text/csv": {"schema": {"type": "string"}}}}}


class ReportQuery(Schema):
    date_from = text_field(10, data_key="from",
                           metadata={"description": "first day, UTC", "format": "date"})
    date_to = text_field(10, data_key="to",
                         metadata={"description": "last day, UTC", "format": "date"})
    currency = text_field(3)
    gateway = text_field(64)
    sort = text_field(40, metadata={"description": "a column, - first for descending"})


class ColumnOut(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "key, count or money"})


class ReportInfoOut(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    columns = fields.List(fields.Nested(ColumnOut), required=True)


class ReportListOut(Schema):
    reports = fields.List(fields.Nested(ReportInfoOut), required=True)


class ReportOut(Schema):
    report = fields.String(required=True)
    title = fields.String(required=True)
    filters = fields.Dict(required=True)
    columns = fields.List(fields.Nested(ColumnOut), required=True)
    rows = fields.List(fields.Dict(), required=True, metadata={
        "description": "one object per row: money as decimal strings, counts as numbers"})
    totals = fields.List(fields.Dict(), required=True, metadata={
        "description": "one totals row per currency"})


def _filters(values: dict[str, Any]) -> Any:
    return parse_filters({"from": values.get("date_from"), "to": values.get("date_to"),
                          "currency": values.get("currency"), "gateway": values.get("gateway")})


def _info(report: Any) -> dict[str, Any]:
    return {"name": report.name, "title": report.title, "description": report.description,
            "columns": [{"name": c.name, "label": c.label, "kind": c.kind}
                        for c in report.columns]}


@reports_api.get("/reports")
@reports_api.output(ReportListOut)
@documented(403, summary="The reports on offer")
def list_reports() -> Any:
    require(require_actor(), service.PERMISSION)
    return {"reports": [_info(report) for report in service.available(request_mill())]}


@reports_api.get("/reports/<name>.csv")
@reports_api.input(ReportQuery, location="query", unknown=RAISE)
@documented(403, 404, 422, summary="One report as CSV", responses=CSV_ANSWER)
def report_csv(name: str, query_data: dict[str, Any]) -> Any:
    result = service.run_report(request_mill(), name, _filters(query_data),
                                actor=require_actor(), sort=query_data.get("sort"))
    return Response(csvout.report_csv(result), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{csvout.filename(result)}"'})


@reports_api.get("/reports/<name>")
@reports_api.input(ReportQuery, location="query", unknown=RAISE)
@reports_api.output(ReportOut)
@documented(403, 404, 422, summary="One report: rows and totals")
def report(name: str, query_data: dict[str, Any]) -> Any:
    result = service.run_report(request_mill(), name, _filters(query_data),
                                actor=require_actor(), sort=query_data.get("sort"))
    return result.as_text()


# ---------------------------------------------------------------------------- the admin

FILTER_FIELDS = ("from", "to", "currency", "gateway")


@reports_admin.get("/")
@login_required
def page() -> Any:
    """The Reports tab: one report at a time (?report=), filtered, sorted, with a chart."""
    actor = admin_actor()
    mill = request_mill()
    try:
        require(actor, service.PERMISSION)
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    offered = service.available(mill)
    name = request.args.get("report") or offered[0].name
    values = {key: request.args.get(key, "") for key in FILTER_FIELDS}
    sort = request.args.get("sort") or None
    error = None
    result = None
    try:
        result = service.run_report(mill, name, parse_filters(values), actor=actor, sort=sort)
    except NotFound as missing:
        abort(404, description=missing.message)
    except InvalidInput as refused:
        error = refused.message
    query = {key: value for key, value in values.items() if value}
    return render_template("reports/reports.html", **i18n_context(), reports=offered,
                           current=name,
                           result=result, error=error, values=values, sort=sort or "",
                           query=query, chart=chart_of(result) if result else None,
                           KEY=KEY, text_row=service.text_row)


__all__ = ["reports_admin", "reports_api"]
