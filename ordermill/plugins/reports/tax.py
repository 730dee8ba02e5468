"""The tax part of report amounts: the only place the reports read tax.

Reports show amounts without tax and tax in a column of its own. A line's tax is the core's
`OrderLine.tax` (the tax inside its total); a payment's tax is its share of its order's
`tax_total`, in proportion to the order's total (a payment of half the order carries half its
tax, rounded down to a whole minor unit). The payments report joins each payment's order for
it (PAYMENT_TAX_NEEDS_ORDER).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, func

PAYMENT_TAX_NEEDS_ORDER = True


def line_tax(line: Any) -> Any:
    """SQL: the tax included in an order line's total (`line` is the OrderLine entity)."""
    return line.tax


def payment_tax(amount: Any, order: Any) -> Any:
    """SQL: the tax included in a payment of `amount` on `order` (the Order entity), in
    whole minor units (rounded down): `//`, since SQLAlchemy's `/` is true division and
    would make it a float, which then summed and truncated differently per database. The
    divisor is typed as an integer so `//` is the databases' integer division, never
    SQLite's Python FLOOR(), which fails on the NULL of a payment without an order."""
    return func.coalesce(
        amount * order.tax_total // func.nullif(order.total, 0, type_=BigInteger), 0)


__all__ = ["PAYMENT_TAX_NEEDS_ORDER", "line_tax", "payment_tax"]
