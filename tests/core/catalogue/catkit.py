"""Helpers for the catalogue tests: roles, reading the stock ledger back, a state snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.catalogue_models import CatalogueEvent, PromoTerms, StockMovement
from ordermill.core.models import Product, PromoCode
from ordermill.core.specs import Actor

ROLES = ("admin", "manager", "support", "viewer")


def actor_of(role: str) -> Actor:
    return Actor(kind="user", name=f"{role}@shop.test", role=role)


def ledger_totals(mill: Ordermill) -> dict[str, tuple[int | None, int]]:
    """{sku: (stock, sum of its ledger)} for every product."""
    with mill.read_session() as session:
        sums = dict(session.execute(select(StockMovement.product_id,
                                           func.sum(StockMovement.change))
                                    .group_by(StockMovement.product_id)).all())
        return {p.sku: (p.stock, int(sums.get(p.id) or 0))
                for p in session.scalars(select(Product))}


def assert_ledger_balances(mill: Ordermill) -> None:
    for sku, (stock, total) in ledger_totals(mill).items():
        if stock is not None:
            assert stock == total, f"{sku}: stock {stock} but the ledger adds up to {total}"
            assert stock >= 0


def catalogue_state(mill: Ordermill) -> dict[str, Any]:
    """Everything a refused catalogue action could have touched."""
    with mill.read_session() as session:
        return {
            "products": [(p.sku, p.name, p.price, p.currency, p.stock, p.active, p.tax_class)
                         for p in session.scalars(select(Product).order_by(Product.sku))],
            "promos": [(p.code, p.kind, p.value, p.active)
                       for p in session.scalars(select(PromoCode).order_by(PromoCode.code))],
            "terms": session.scalar(select(func.count()).select_from(PromoTerms)),
            "movements": session.scalar(select(func.count()).select_from(StockMovement)),
            "events": session.scalar(select(func.count()).select_from(CatalogueEvent)),
        }
