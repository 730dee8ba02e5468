"""A report as CSV: a header of column names, the rows, then the totals rows.

Money is written as decimal strings ("12.50"), as in the API. Text a spreadsheet would run
as a formula (a product named "=HYPERLINK(...)") gets a leading apostrophe; numbers never do.
"""

from __future__ import annotations

import csv
import io

from ordermill.plugins.reports.definitions import KEY
from ordermill.plugins.reports.service import ReportResult, text_row

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_csv(result: ReportResult) -> str:
    report = result.report
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in report.columns])
    for row in [*result.rows, *result.totals]:
        shown = text_row(report, row)
        writer.writerow([_safe(shown[column.name]) if column.kind == KEY
                         else shown[column.name] for column in report.columns])
    return out.getvalue()


def filename(result: ReportResult) -> str:
    return f"report-{result.report.name}.csv"


__all__ = ["filename", "report_csv"]
