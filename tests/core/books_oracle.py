"""The oracle of test_properties.py: what the books should say, recomputed from raw rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ordermill.core.app import Ordermill
from ordermill.core.models import Base, Order


def expected_payment_status(total: int, lines: list[Any], payments: list[Any]) -> str:
    """payment status from raw rows: what money moved against what the live lines cost.

    Money refunded for lines is not kept for them; a goodwill refund (no lines) is. While
    something is still owed (say, products added after a refund) the order is unpaid or
    partially paid again, whatever was refunded before.
    """
    captured = sum(p.amount for p in payments if p.kind == "charge" and p.status == "succeeded")
    refunded = sum(p.amount for p in payments if p.kind == "refund" and p.status == "succeeded")
    owed = sum(line.total for line in lines if line.status == "active")
    kept_for_lines = captured - sum(line.refunded_amount for line in lines)
    due = max(0, owed - kept_for_lines)
    if refunded:
        if due:
            return "partially_paid" if captured > refunded else "unpaid"
        return "refunded" if refunded >= captured else "partially_refunded"
    if not captured:
        return "paid" if total == 0 else "unpaid"
    return "paid" if captured >= owed else "partially_paid"


def expected_summary(lines: list[Any], paid_state: str) -> str:
    """The Webex summary from raw rows, counted in units."""
    units = Counter()
    for line in lines:
        units[line.status] += line.quantity
    everything = sum(units.values())
    if everything == 0:
        return "Empty"
    if units["active"] == 0:
        if units["refunded"] and units["cancelled"]:
            return "Refunded/Cancelled"
        return "Refunded" if units["refunded"] else "Cancelled"
    if paid_state == "unpaid":
        return "Unpaid"
    if paid_state == "partially_paid":
        return "Partially paid"
    if units["active"] == everything:
        return "Complete"
    return f"{units['active']}/{everything} Complete"


Dump = dict[str, list[Any]]


def dump(mill: Ordermill) -> Dump:
    """Every row of every table, by table name: what 'changes nothing' is compared against
    (rows compare as tuples) and what the invariants read."""
    with mill.read_session() as session:
        return {
            table.name: list(session.execute(
                select(table).order_by(*table.primary_key.columns)))
            for table in Base.metadata.sorted_tables
        }


def loaded_orders(mill: Ordermill) -> dict[str, Order]:
    """The orders as the core sees them (ORM objects with lines and payments), by number."""
    with mill.read_session() as session:
        return {order.number: order for order in session.scalars(
            select(Order).options(selectinload(Order.lines), selectinload(Order.payments),
                                  selectinload(Order.invoices)))}
