"""The tax part of report amounts: zero until ordermill stores tax (issue 15, branch i15-tax).

Reports show amounts without tax and tax in a column of its own. ordermill does not store
tax yet, so both functions below answer 0; they are the only place the reports read tax.
When `OrderLine.tax` and `Order.tax_total` exist, wire them here:

    PAYMENT_TAX_NEEDS_ORDER = False


def line_tax(line):            return line.tax
    def payment_tax(amount, order):
        return func.coalesce(amount * order.tax_total // func.nullif(order.total, 0), 0)

(`payment_tax` is the share of the order's tax in a payment of `amount`.) Then set
PAYMENT_TAX_NEEDS_ORDER = True: the payments report joins each payment's order only then, so
that today it is read from the payment index alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, literal

PAYMENT_TAX_NEEDS_ORDER = False


def line_tax(line: Any) -> Any:
    """SQL: the tax included in an order line's total (`line` is the OrderLine entity)."""
    return literal(0, BigInteger)


def payment_tax(amount: Any, order: Any) -> Any:
    """SQL: the tax included in a payment of `amount` on `order` (the Order entity)."""
    return literal(0, BigInteger)


__all__ = ["PAYMENT_TAX_NEEDS_ORDER", "line_tax", "payment_tax"]
