"""The reports' live SQL over the orders themselves: the reference (`--exact`, `exact=True`)
and what fills the summary tables (`facts`), which the reports read by default (`summary`).

* payments: `payment` by gateway and currency, in the period by `payment.created_at`
  (indexed); succeeded payments only.
* products / categories: order lines of orders paid in the period (`shop_order.paid_at`,
  indexed), cancelled lines left out (never sold). The fees of the order's payments are split
  over its lines in proportion to their gross with a running sum (a window function): line i
  gets floor(F * cum_i / T) - floor(F * cum_(i-1) / T), whole minor units that add up to F
  exactly, each within one unit of its share.
* managers: confirmed orders (the `confirmed_sales_condition` hook) joined to their payments;
  orders are counted by placement date, money by payment date.

Amounts are integers (minor units) from the database; `run` returns rows of Python values.
Tax comes from `tax` (zero today).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ordermill.api import Order, OrderLine, Payment, StaffUser
from ordermill.plugins.reports import tax
from ordermill.plugins.reports.definitions import (
    KEY,
    NO_CATEGORY,
    SYSTEM_MANAGER,
    Filters,
    ReportDef,
)

SUCCEEDED = "succeeded"
SOLD_LINE_STATUSES = ("active", "refunded")


def _total(expression: Any) -> ColumnElement[int]:
    """SUM that is 0, not NULL, over no rows, as a BigInteger on both databases."""
    return func.coalesce(func.sum(expression), 0).cast(BigInteger)


def _in_period(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=literal(0, BigInteger))


def payments_query(filters: Filters) -> Select[Any]:
    charge = Payment.kind == "charge"
    refund = Payment.kind == "refund"
    tax_part = tax.payment_tax(Payment.amount, Order)
    gross = _total(_when(charge, Payment.amount - tax_part))
    refunds = _total(_when(refund, Payment.amount - tax_part))
    fees = _total(Payment.fee)
    query = (select(Payment.gateway.label("gateway"), Payment.currency.label("currency"),
                    _total(_when(charge, 1)).label("payments"), gross.label("gross"),
                    (_total(_when(charge, tax_part)) - _total(_when(refund, tax_part)))
                    .label("tax"),
                    refunds.label("refunds"), fees.label("fees"),
                    (gross - refunds - fees).label("net"))
             .where(Payment.status == SUCCEEDED, *_in_period(Payment.created_at, filters))
             # currency first: grouped by gateway first, SQLite would walk
             # ix_payment_gateway_reference in group order and read every row, instead of
             # answering from the covering index ix_payment_report alone
             .group_by(Payment.currency, Payment.gateway))
    if tax.PAYMENT_TAX_NEEDS_ORDER:
        query = query.outerjoin(Order, Order.id == Payment.order_id)
    if filters.currency:
        query = query.where(Payment.currency == filters.currency)
    if filters.gateway:
        query = query.where(Payment.gateway == filters.gateway)
    return query


def _paid_orders(filters: Filters, order_ids: Any = None) -> Any:
    """The orders paid in the period (the paid_at index), each with its payments' fees (a
    lookup per order on the payment index), as a derived table the lines join. `order_ids`
    narrows it to those orders (the summary tables' refresh, `facts`)."""
    fees = (select(_total(Payment.fee)).where(Payment.order_id == Order.id,
                                              Payment.status == SUCCEEDED)
            .correlate(Order).scalar_subquery())
    query = (select(Order.id.label("id"), Order.currency.label("currency"),
                    Order.paid_at.label("paid_at"), Order.payment_method.label("gateway"),
                    fees.label("fees"))
             .where(Order.paid_at.is_not(None), *_in_period(Order.paid_at, filters)))
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    if filters.currency:
        query = query.where(Order.currency == filters.currency)
    if filters.gateway:
        query = query.where(Order.payment_method == filters.gateway)
    return query.subquery("paid")


def sold_lines(filters: Filters, order_ids: Any = None) -> Any:
    """One row per sold line of the orders paid in the period, with its share of the fees."""
    paid = _paid_orders(filters, order_ids)
    line_gross = OrderLine.total - tax.line_tax(OrderLine)
    # one window ordering (one sort): the running sum, and the whole order's sum
    running = func.sum(line_gross).over(partition_by=OrderLine.order_id, order_by=OrderLine.id,
                                        rows=(None, 0))
    order_gross = func.sum(line_gross).over(partition_by=OrderLine.order_id,
                                            order_by=OrderLine.id, rows=(None, None))
    order_fee = paid.c.fees
    # an order whose lines total 0 (free lines and a fee) has no share to split: CASE never
    # reaches the division there, whose NULL would fail SQLite's Python FLOOR()
    share = case((order_gross == 0, literal(0, BigInteger)), else_=(
        func.coalesce(order_fee * running // func.nullif(order_gross, 0), 0)
        - func.coalesce(order_fee * (running - line_gross) // func.nullif(order_gross, 0), 0)))
    return (select(OrderLine.id.label("line_id"), paid.c.id.label("order_id"),
                   paid.c.paid_at.label("paid_at"), paid.c.gateway.label("gateway"),
                   OrderLine.sku.label("sku"), OrderLine.name.label("product"),
                   func.coalesce(OrderLine.category, NO_CATEGORY).label("category"),
                   paid.c.currency.label("currency"), OrderLine.quantity.label("units"),
                   line_gross.label("gross"), OrderLine.discount.label("discounts"),
                   tax.line_tax(OrderLine).label("tax"),
                   OrderLine.refunded_amount.label("refunds"), share.label("fees"))
            .select_from(paid)
            .join(OrderLine, OrderLine.order_id == paid.c.id)
            .where(OrderLine.status.in_(SOLD_LINE_STATUSES))
            .subquery("sold"))


def lines_query(keys: tuple[str, ...], filters: Filters) -> Select[Any]:
    sold = sold_lines(filters)
    groups = [sold.c[key] for key in keys] + [sold.c.currency]
    gross, refunds, fees = _total(sold.c.gross), _total(sold.c.refunds), _total(sold.c.fees)
    return (select(*groups, _total(sold.c.units).label("units"), gross.label("gross"),
                   _total(sold.c.discounts).label("discounts"), _total(sold.c.tax).label("tax"),
                   refunds.label("refunds"), (gross - refunds).label("net_of_refunds"),
                   fees.label("fees"), (gross - refunds - fees).label("net"))
            .group_by(*groups).order_by(*groups))


def managers_query(filters: Filters, confirmed: ColumnElement[bool]) -> Select[Any]:
    in_period = and_(Payment.status == SUCCEEDED, *_in_period(Payment.created_at, filters))
    if filters.gateway:
        in_period = and_(in_period, Payment.gateway == filters.gateway)
    placed = and_(*_in_period(Order.placed_at, filters)) if (filters.start or filters.end) \
        else literal(True)
    if filters.gateway:
        placed = and_(placed, Order.payment_method == filters.gateway)
    charge = Payment.kind == "charge"
    refund = Payment.kind == "refund"
    tax_part = tax.payment_tax(Payment.amount, Order)
    gross = _total(_when(charge, Payment.amount - tax_part))
    refunds = _total(_when(refund, Payment.amount - tax_part))
    fees = _total(func.coalesce(Payment.fee, 0))
    manager = func.coalesce(StaffUser.name, SYSTEM_MANAGER)
    query = (select(manager.label("manager"), Order.currency.label("currency"),
                    func.count(func.distinct(case((placed, Order.id)))).label("orders"),
                    gross.label("gross"),
                    (_total(_when(charge, tax_part)) - _total(_when(refund, tax_part)))
                    .label("tax"),
                    refunds.label("refunds"), fees.label("fees"),
                    (gross - refunds - fees).label("net"))
             .select_from(Order)
             .outerjoin(StaffUser, StaffUser.id == Order.sales_manager_id)
             .outerjoin(Payment, and_(Payment.order_id == Order.id, in_period))
             .where(confirmed, or_(placed, Payment.id.is_not(None)))
             .group_by(Order.sales_manager_id, StaffUser.name, Order.currency)
             .order_by(manager, Order.currency))
    if filters.currency:
        query = query.where(Order.currency == filters.currency)
    return query


def build(report: ReportDef, filters: Filters, confirmed: Any = None) -> Select[Any]:
    """The report's one statement (`confirmed`: the hook's condition, for managers)."""
    if report.name == "payments":
        return payments_query(filters)
    if report.name == "managers":
        return managers_query(filters, confirmed)
    return lines_query(tuple(k for k in report.keys if k != "currency"), filters)


def rows_of(session: Any, report: ReportDef, filters: Filters, confirmed: Any = None, *,
            statement: Any = None) -> list[dict[str, Any]]:
    """The report's rows as {column: value}, amounts in minor units (ints); `statement`
    (the summary tables' GROUP BY) instead of the live one."""
    if statement is None:
        statement = build(report, filters, confirmed)
    result = session.execute(statement).mappings().all()
    return [{column.name: row[column.name] if column.kind == KEY else int(row[column.name])
             for column in report.columns} for row in result]

__all__ = ["SUCCEEDED", "build", "lines_query", "managers_query", "payments_query", "rows_of",
           "sold_lines"]
