"""Small read-only look-ups the admin's dropdowns and columns need (names, codes in use).

These only list what exists so a select box can offer it; every choice is checked again by
the core when it is used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ordermill.core.app import Ordermill
from ordermill.core.labels import gateway_label
from ordermill.core.models import Customer, Order, Product, PromoCode, User


def staff_names(mill: Ordermill) -> dict[int, str]:
    """{user id: display name} of every staff user (the sales manager column)."""
    with mill.read_session() as session:
        rows = session.execute(select(User.id, User.name, User.email)
                               .where(User.role != "customer")).all()
    return {row.id: row.name or row.email for row in rows}


def active_staff(mill: Ordermill) -> list[tuple[int, str]]:
    with mill.read_session() as session:
        rows = session.execute(select(User.id, User.name, User.email)
                               .where(User.active.is_(True), User.role != "customer")
                               .order_by(User.name)).all()
    return [(row.id, row.name or row.email) for row in rows]


def payment_methods(mill: Ordermill) -> list[tuple[str, str]]:
    """(name, label) of registered gateways plus any method orders were placed with."""
    with mill.read_session() as session:
        used = set(_distinct(session, Order.payment_method))
    names = sorted(set(mill.gateways) | used)
    return [(name, gateway_label(mill, name)) for name in names]  # the reader's language


def _distinct(session: Session, column: Any) -> list[Any]:
    """The distinct values of an indexed column, one index probe each (a loose index scan):
    `SELECT DISTINCT` reads every order, ~200 ms at 100k orders on PostgreSQL."""
    found: list[Any] = []
    value = session.scalar(select(func.min(column)))
    while value is not None:
        found.append(value)
        value = session.scalar(select(func.min(column)).where(column > value))
    return found


def promo_codes(mill: Ordermill, *, active_only: bool = False) -> list[dict[str, Any]]:
    query = select(PromoCode).order_by(PromoCode.code)
    if active_only:
        query = query.where(PromoCode.active.is_(True))
    with mill.read_session() as session:
        return [{"code": p.code, "kind": p.kind, "value": p.value, "currency": p.currency,
                 "active": p.active} for p in session.scalars(query)]


def categories(mill: Ordermill) -> list[str]:
    with mill.read_session() as session:
        return sorted(c for c in session.scalars(select(Product.category).distinct()) if c)


def customer(mill: Ordermill, customer_id: int) -> dict[str, Any] | None:
    with mill.read_session() as session:
        row = session.get(Customer, customer_id)
        if row is None:
            return None
        return {"id": row.id, "name": row.name, "email": row.email, "phone": row.phone,
                "company": row.company, "billing_address": dict(row.billing_address or {}),
                "language": row.language, "vat_id": row.vat_id}


def orders_using_status(mill: Ordermill, status: str) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(Order)
                              .where(Order.status == status)) or 0
