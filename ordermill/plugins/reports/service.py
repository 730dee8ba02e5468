"""Running a report: permission, the hook, the query, sorting and the totals rows.

`run_report` is what the API, the admin, the command line and the CSV all call, so they
cannot disagree. Totals are one row per currency (amounts of two currencies never add up).
`as_text` turns amounts into decimal strings ("12.50") for JSON and CSV.
"""

from __future__ import annotations

from typing import Any

import attrs

from ordermill.api import Actor, NotFound, Order, Ordermill, money_text, require
from ordermill.plugins.reports import facts, queries, summary
from ordermill.plugins.reports.definitions import (
    KEY,
    MONEY,
    REPORTS,
    TOTAL_LABEL,
    Filters,
    ReportDef,
    parse_sort,
)

PERMISSION = "view_reports"
HOOK = "confirmed_sales_condition"
UNKNOWN_REPORT = "No report {name!r}; reports are {names}."
NEEDS_CONFIRMATIONS = ("The report by sales manager needs a plugin that confirms sales "
                       "(sales_managers), and none is loaded.")


@attrs.frozen
class ReportResult:
    report: ReportDef
    filters: Filters
    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]]

    def as_text(self) -> dict[str, Any]:
        """The JSON answer: money as decimal strings, counts as numbers."""
        return {"report": self.report.name, "title": self.report.title,
                "filters": self.filters.to_dict(),
                "columns": [attrs.asdict(column) for column in self.report.columns],
                "rows": [text_row(self.report, row) for row in self.rows],
                "totals": [text_row(self.report, row) for row in self.totals]}


def text_row(report: ReportDef, row: dict[str, Any]) -> dict[str, Any]:
    return {column.name: money_text(row[column.name], row["currency"])
            if column.kind == MONEY else row[column.name] for column in report.columns}


def confirmed_condition(mill: Ordermill, order_id: Any = None) -> Any:
    """The confirmed-sales condition a plugin gives through the hook (about `order_id`, the
    order's id by default), or None."""
    return mill.plugins.call(HOOK, order_id=Order.id if order_id is None else order_id).first


def available(mill: Ordermill) -> list[ReportDef]:
    """The reports this app offers (by sales manager only with confirmations)."""
    has_confirmations = confirmed_condition(mill) is not None
    return [report for report in REPORTS.values()
            if report.name != "managers" or has_confirmations]


def report_named(mill: Ordermill, name: str, order_id: Any = None) -> tuple[ReportDef, Any]:
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(UNKNOWN_REPORT.format(name=name, names=", ".join(REPORTS)),
                       details={"report": name})
    confirmed = None
    if report.name == "managers":
        confirmed = confirmed_condition(mill, order_id)
        if confirmed is None:
            raise NotFound(NEEDS_CONFIRMATIONS, details={"report": name})
    return report, confirmed


def totals_of(report: ReportDef, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One totals row per currency, in currency order."""
    keys = [column.name for column in report.columns if column.kind == KEY]
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {
            **{key: "" for key in keys}, keys[0]: TOTAL_LABEL, "currency": row["currency"],
            **{column.name: 0 for column in report.figures}})
        for column in report.figures:
            total[column.name] += row[column.name]
    return [totals[currency] for currency in sorted(totals)]


def run_report(mill: Ordermill, name: str, filters: Filters, *, actor: Actor,
               sort: str | None = None, exact: bool = False) -> ReportResult:
    """The report `name` with these filters, sorted by `sort` ("column" or "-column"): one
    GROUP BY over the summary tables, or with `exact` the live query over the orders (the
    reference; seconds on a large shop)."""
    require(actor, PERMISSION)
    report, confirmed = report_named(mill, name, None if exact else summary.ORDER_ID)
    order = parse_sort(report, sort)
    with mill.read_session() as session:
        statement = None if exact else summary.build(report, filters, confirmed)
        rows = queries.rows_of(session, report, filters, confirmed, statement=statement)
    rows.sort(key=lambda row: tuple(row[key] for key in report.keys))  # the same on both DBs
    if order is not None:
        column, descending = order
        rows.sort(key=lambda row: (row[column] is None, row[column]), reverse=descending)
    return ReportResult(report, filters, rows, totals_of(report, rows))


def rebuild_summary(mill: Ordermill, *, actor: Actor) -> dict[str, int]:
    """Refill the summary tables from every order and payment, in one write transaction
    (after changes made around the ORM; readers see the old rows until it commits)."""
    require(actor, PERMISSION)
    with mill.write_session() as session, session.begin():
        return facts.rebuild(session)


__all__ = ["PERMISSION", "ReportResult", "available", "rebuild_summary", "run_report",
           "text_row", "totals_of"]
