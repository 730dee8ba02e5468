"""What each report is: its name, title, columns, and the filters every report takes.

The SQL lives in `queries`; this module is the vocabulary the API, the admin, the command
line and the CSV share, so a column is named and labelled in exactly one place.
"""

from __future__ import annotations

import datetime as dt

import attrs

from ordermill.api import N_, InvalidInput, check_currency

KEY, COUNT, MONEY = "key", "count", "money"
# titles, descriptions and column labels are English sources (N_): the CSV and the API keep
# them as they are, the admin page translates them with the plugin's domain
TOTAL_LABEL = "Total"
NO_CATEGORY = "(no category)"
SYSTEM_MANAGER = "system"


@attrs.frozen
class Column:
    name: str
    label: str
    kind: str  # key (a grouping value), count (a whole number) or money (minor units)


@attrs.frozen
class ReportDef:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    chart_column: str  # the money column the admin draws as bars

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == KEY)

    @property
    def figures(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind != KEY)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


CURRENCY = Column("currency", N_("Currency"), KEY)
GROSS = Column("gross", N_("Gross"), MONEY)
TAX = Column("tax", N_("Tax"), MONEY)
REFUNDS = Column("refunds", N_("Refunds"), MONEY)
FEES = Column("fees", N_("Gateway fees"), MONEY)
NET = Column("net", N_("Net"), MONEY)
LINE_FIGURES = (Column("units", N_("Units"), COUNT), GROSS,
                Column("discounts", N_("Discounts"), MONEY), TAX, REFUNDS,
                Column("net_of_refunds", N_("Net of refunds"), MONEY), FEES, NET)

PAYMENTS = ReportDef(
    "payments", N_("By payment system and currency"),
    N_("Money that moved in the period (by payment date): charges, refunds and the fees the "
       "gateways kept. Net = gross - refunds - gateway fees; amounts exclude tax."),
    (Column("gateway", N_("Payment system"), KEY), CURRENCY,
     Column("payments", N_("Payments"), COUNT),
     GROSS, TAX, REFUNDS, FEES, NET), "net")
PRODUCTS = ReportDef(
    "products", N_("By offer"),
    N_("Lines of the orders paid in the period (by payment date), per product. Gross is what "
       "the lines were sold for after discounts and without tax; a payment's fee is split "
       "over its order's lines in proportion to their gross."),
    (Column("sku", N_("SKU"), KEY), Column("product", N_("Offer"), KEY), CURRENCY,
     *LINE_FIGURES),
    "gross")
CATEGORIES = ReportDef(
    "categories", N_("By offer category"),
    N_("As by offer, per product category."),
    (Column("category", N_("Category"), KEY), CURRENCY, *LINE_FIGURES), "gross")
MANAGERS = ReportDef(
    "managers", N_("By sales manager"),
    N_("Confirmed sales only: orders placed in the period (by placement date) and the money "
       "that moved on confirmed sales in the period (by payment date)."),
    (Column("manager", N_("Sales manager"), KEY), CURRENCY,
     Column("orders", N_("Orders"), COUNT),
     GROSS, TAX, REFUNDS, FEES, NET), "net")
REPORTS = {report.name: report for report in (PAYMENTS, PRODUCTS, CATEGORIES, MANAGERS)}

BAD_DATE = "{field} must be a date like 2026-01-31."
BAD_RANGE = "The period ends ({end}) before it starts ({start})."
BAD_SORT = "Cannot sort by {sort!r}: choose one of {choices} (prefix - for descending)."


@attrs.frozen
class Filters:
    """Every report's filters: an inclusive range of UTC dates, a currency, a gateway."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    currency: str | None = None
    gateway: str | None = None

    @property
    def start(self) -> dt.datetime | None:
        if self.date_from is None:
            return None
        return dt.datetime.combine(self.date_from, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime | None:
        """The first instant after the range (exclusive)."""
        if self.date_to is None:
            return None
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def to_dict(self) -> dict[str, str | None]:
        return {"from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "currency": self.currency, "gateway": self.gateway}


def _date(value: str | None, field: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(BAD_DATE.format(field=field), details={"field": field}) from None


def parse_filters(values: dict[str, str | None]) -> Filters:
    """Filters from text (query string, form, command line); bad input is an InvalidInput."""
    start, end = _date(values.get("from"), "from"), _date(values.get("to"), "to")
    if start and end and end < start:
        raise InvalidInput(BAD_RANGE.format(start=start, end=end), details={"field": "to"})
    currency = (values.get("currency") or "").strip().upper() or None
    if currency is not None:
        try:
            check_currency(currency)
        except InvalidInput as error:
            raise InvalidInput(error.message, details={"field": "currency"}) from None
    gateway = (values.get("gateway") or "").strip() or None
    return Filters(start, end, currency, gateway)


def parse_sort(report: ReportDef, sort: str | None) -> tuple[str, bool] | None:
    """("column", descending) from "column" or "-column"; None keeps the report's order."""
    if not sort:
        return None
    name, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if report.column(name) is None:
        raise InvalidInput(BAD_SORT.format(sort=sort, choices=", ".join(
            c.name for c in report.columns)), details={"field": "sort"})
    return name, descending


__all__ = ["CATEGORIES", "COUNT", "KEY", "MANAGERS", "MONEY", "NO_CATEGORY", "PAYMENTS",
           "PRODUCTS", "REPORTS", "SYSTEM_MANAGER", "TOTAL_LABEL", "Column", "Filters",
           "ReportDef", "parse_filters", "parse_sort"]
