"""The reports as one GROUP BY each over the summary tables (`facts`): what they run.

Each statement returns the same columns, in the same meaning, as its live counterpart in
`queries` (the reference, `--exact`): the summary rows were computed by that very SQL, so
summing them per group gives the live figures. Filters are plain column conditions: the
period on the row's date (payment date, paid date or placement date, as the live report
uses), the currency and the gateway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import find_tables

from ordermill.api import Order, StaffUser
from ordermill.plugins.reports.definitions import SYSTEM_MANAGER, Filters, ReportDef
from ordermill.plugins.reports.facts import LINES, MONEY
from ordermill.plugins.reports.queries import _in_period, _total

ORDER_ID = MONEY.c.order_id  # what the confirmed-sales hook is asked about


def reads_orders(condition: Any) -> bool:
    """Whether the condition reads the orders table itself (so the rows join it)."""
    return Order.__table__ in find_tables(condition, check_columns=True)


def _money_figures() -> tuple[Any, Any, Any, Any]:
    return _total(MONEY.c.gross), _total(MONEY.c.refunds), _total(MONEY.c.fees), \
        _total(MONEY.c.tax)


def payments_query(filters: Filters) -> Select[Any]:
    gross, refunds, fees, tax_total = _money_figures()
    query = (select(MONEY.c.gateway.label("gateway"), MONEY.c.currency.label("currency"),
                    _total(MONEY.c.payments).label("payments"), gross.label("gross"),
                    tax_total.label("tax"), refunds.label("refunds"), fees.label("fees"),
                    (gross - refunds - fees).label("net"))
             .where(MONEY.c.payment_id.is_not(None), *_in_period(MONEY.c.at, filters))
             .group_by(MONEY.c.currency, MONEY.c.gateway))
    if filters.currency:
        query = query.where(MONEY.c.currency == filters.currency)
    if filters.gateway:
        query = query.where(MONEY.c.gateway == filters.gateway)
    return query


def lines_query(keys: tuple[str, ...], filters: Filters) -> Select[Any]:
    groups = [LINES.c[key] for key in keys] + [LINES.c.currency]
    gross, refunds, fees = _total(LINES.c.gross), _total(LINES.c.refunds), _total(LINES.c.fees)
    query = (select(*groups, _total(LINES.c.units).label("units"), gross.label("gross"),
                    _total(LINES.c.discounts).label("discounts"),
                    _total(LINES.c.tax).label("tax"), refunds.label("refunds"),
                    (gross - refunds).label("net_of_refunds"), fees.label("fees"),
                    (gross - refunds - fees).label("net"))
             .where(*_in_period(LINES.c.paid_at, filters))
             .group_by(*groups))
    if filters.currency:
        query = query.where(LINES.c.currency == filters.currency)
    if filters.gateway:
        query = query.where(LINES.c.gateway == filters.gateway)
    return query


def managers_query(filters: Filters, confirmed: ColumnElement[bool]) -> Select[Any]:
    """Orders placed and money moved in the period on confirmed sales, per manager id and
    order currency; the manager's current name is joined to the (few) groups. The rows
    join their order when the hook's condition reads its columns (docs/hooks.md allows it;
    the condition is asked about `ORDER_ID`, so a confirmation table needs no join)."""
    gross, refunds, fees, tax_total = _money_figures()
    conditions = [MONEY.c.order_id.is_not(None), confirmed, *_in_period(MONEY.c.at, filters)]
    if filters.gateway:
        conditions.append(MONEY.c.gateway == filters.gateway)
    if filters.currency:
        conditions.append(MONEY.c.order_currency == filters.currency)
    query = (select(MONEY.c.manager_id.label("manager_id"),
                    MONEY.c.order_currency.label("currency"),
                    _total(MONEY.c.orders).label("orders"), gross.label("gross"),
                    tax_total.label("tax"), refunds.label("refunds"), fees.label("fees"))
             .where(and_(*conditions))
             .group_by(MONEY.c.manager_id, MONEY.c.order_currency))
    if reads_orders(confirmed):
        query = query.join(Order, Order.id == MONEY.c.order_id)
    grouped = query.subquery("grouped")
    manager = func.coalesce(StaffUser.name, SYSTEM_MANAGER)
    return (select(manager.label("manager"), grouped.c.currency, grouped.c.orders,
                   grouped.c.gross, grouped.c.tax, grouped.c.refunds, grouped.c.fees,
                   (grouped.c.gross - grouped.c.refunds - grouped.c.fees).label("net"))
            .select_from(grouped)
            .outerjoin(StaffUser, StaffUser.id == grouped.c.manager_id))


def build(report: ReportDef, filters: Filters, confirmed: Any = None) -> Select[Any]:
    """The report's one statement over the summary tables (`confirmed`: the hook's
    condition, for managers)."""
    if report.name == "payments":
        return payments_query(filters)
    if report.name == "managers":
        return managers_query(filters, confirmed)
    return lines_query(tuple(k for k in report.keys if k != "currency"), filters)


__all__ = ["ORDER_ID", "build", "lines_query", "managers_query", "payments_query", "reads_orders"]
