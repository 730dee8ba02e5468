"""The admin's bar charts, drawn here as inline SVG: no chart library, nothing from a CDN.

One horizontal bar per row of one currency (the chosen one, or the one with the largest
total), its length the report's chart column; negative values (a net below zero) are drawn
in the danger colour from the zero line. Text is escaped by Jinja's autoescaping in the
template: this module only computes geometry.
"""

from __future__ import annotations

from typing import Any

import attrs

from ordermill.api import money_text
from ordermill.plugins.reports.i18n import _
from ordermill.plugins.reports.service import ReportResult

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 220
BAR_WIDTH = 420
VALUE_WIDTH = 110
MAX_BARS = 25


@attrs.frozen
class Bar:
    label: str
    value: str
    x: float
    y: float
    width: float
    negative: bool


@attrs.frozen
class Chart:
    title: str
    currency: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    value_x: int = LABEL_WIDTH + BAR_WIDTH + 8


def _label(result: ReportResult, row: dict[str, Any]) -> str:
    keys = [name for name in result.report.keys if name != "currency"]
    return " · ".join(str(row[name]) for name in keys)


def chart_of(result: ReportResult) -> Chart | None:
    column = result.report.column(result.report.chart_column)
    if column is None or not result.totals:
        return None
    currency = result.filters.currency or max(
        result.totals, key=lambda total: abs(total[column.name]))["currency"]
    rows = [row for row in result.rows if row["currency"] == currency][:MAX_BARS]
    if not rows:
        return None
    values = [row[column.name] for row in rows]
    low, high = min(0, *values), max(0, *values)
    span = (high - low) or 1
    zero = LABEL_WIDTH + BAR_WIDTH * (-low) / span
    bars = []
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        length = BAR_WIDTH * abs(value) / span
        bars.append(Bar(_label(result, row), money_text(value, currency),
                        zero - length if value < 0 else zero, index * (BAR_HEIGHT + GAP),
                        max(length, 1.0), value < 0))
    return Chart(_("%(label)s (%(currency)s)", label=_(column.label), currency=currency),
                 currency, tuple(bars),
                 LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, len(bars) * (BAR_HEIGHT + GAP))


__all__ = ["Chart", "chart_of"]
