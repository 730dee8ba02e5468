"""CSV answers and the small conversions list endpoints share (days, paging fields).

CSV cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP's CSV
injection rule): a buyer called "=HYPERLINK(...)" must not become a link in the shop's
Excel. Spreadsheets skip leading whitespace before they look for a formula, so " =1+1" or
"\n@SUM(...)" is defused as well, not only a formula in the very first character.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from flask import Response

from ordermill.core.queries import Page

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_formula(value: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula: it starts with one of
    FORMULA_START, or does after whitespace (a tab or CR first counts by itself)."""
    return value.startswith(FORMULA_START) or value.lstrip().startswith(FORMULA_START)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and _is_formula(value):
        return "'" + value
    if value is None:
        return ""
    return value


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row.get(column)) for column in columns])
        yield buffer.getvalue()


def csv_response(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], name: str
                 ) -> Response:
    """A streamed CSV download; rows are pulled batch by batch as the client reads."""
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    response = Response(csv_lines(columns, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{today}.csv"'
    return response


def day_range(first: dt.date | None, last: dt.date | None
              ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Inclusive UTC days -> [first midnight, the midnight after last)."""
    start = dt.datetime.combine(first, dt.time(), dt.UTC) if first else None
    end = None
    if last:
        end = (dt.datetime.combine(last, dt.time(), dt.UTC) + dt.timedelta(days=1)
               if last < dt.date.max else dt.datetime.max.replace(tzinfo=dt.UTC))
    return start, end


def page_fields(page: Page) -> dict[str, Any]:
    return {"page": page.page, "per_page": page.per_page, "total": page.total,
            "total_exact": page.exact,
            "pages": page.pages, "next_page": page.page + 1 if page.has_next else None,
            "prev_page": page.page - 1 if page.has_prev else None}
