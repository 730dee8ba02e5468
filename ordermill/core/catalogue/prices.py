"""Prices in several currencies. An order is placed in one currency (the request's, else the
shop's) and every product in it needs a price in that currency, else a clear error.

A product's own `price`/`currency` stay its main price; `product_price` holds one row per
currency, the main one included (the migration copied existing prices there).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ordermill.core.catalogue_models import ProductPrice
from ordermill.core.errors import InvalidInput
from ordermill.core.models import Product

NO_PRICE = ("An order is in one currency: {name} ({sku}) has no price in {currency}; it sells "
            "in {known}.")


def price_table(session: Session, product_ids: list[int]) -> dict[int, dict[str, int]]:
    """{product id: {currency: amount}} with each product's main price included."""
    table: dict[int, dict[str, int]] = {pid: {} for pid in product_ids}
    if not product_ids:
        return table
    rows = session.execute(select(ProductPrice.product_id, ProductPrice.currency,
                                  ProductPrice.amount)
                           .where(ProductPrice.product_id.in_(sorted(set(product_ids)))))
    for product_id, currency, amount in rows:
        table[product_id][currency] = amount
    return table


def all_prices(session: Session, product: Product) -> dict[str, int]:
    found = price_table(session, [product.id])[product.id]
    found[product.currency] = product.price
    return dict(sorted(found.items()))


def order_currency(session: Session, products: Mapping[str, Product], requested: str | None,
                   default: str, *, table: dict[int, dict[str, int]] | None = None) -> str:
    """The currency to place an order in.

    Asked for: that one, and every product must have a price in it. Not asked for: the
    shop's currency when every product has a price in it, else the products' common main
    currency (a shop selling only in USD under an EUR default keeps working). `table`: the
    price_table already read with the products (placing reads both in one query).
    """
    if table is None:
        table = price_table(session, [p.id for p in products.values()])
    for product in products.values():
        table[product.id][product.currency] = product.price
    if requested:
        _check_all_priced(products, table, requested)
        return requested
    if all(default in table[p.id] for p in products.values()):
        return default
    mains = {p.currency for p in products.values()}
    if len(mains) == 1:
        return mains.pop()
    _check_all_priced(products, table, default)
    return default


def _check_all_priced(products: Mapping[str, Product], table: dict[int, dict[str, int]],
                      currency: str) -> None:
    for sku in sorted(products):
        product = products[sku]
        if currency not in table[product.id]:
            raise InvalidInput(
                NO_PRICE.format(name=product.name, sku=sku, currency=currency,
                                known=", ".join(sorted(table[product.id]))),
                details={"sku": sku, "currency": currency, "field": "currency"})


def unit_prices(session: Session, products: Mapping[str, Product], currency: str, *,
                table: dict[int, dict[str, int]] | None = None) -> dict[str, int]:
    """{sku: unit price in `currency`}; a product without a price in it is refused."""
    if table is None:
        table = price_table(session, [p.id for p in products.values()])
    for product in products.values():
        table[product.id][product.currency] = product.price
    _check_all_priced(products, table, currency)
    return {sku: table[product.id][currency] for sku, product in products.items()}


def set_prices(session: Session, product: Product, wanted: Mapping[str, int]) -> None:
    """Make the product's price rows exactly `wanted` plus its main price."""
    wanted = {**wanted, product.currency: product.price}
    session.execute(delete(ProductPrice).where(ProductPrice.product_id == product.id,
                                               ProductPrice.currency.not_in(sorted(wanted))))
    existing = {row.currency: row for row in session.scalars(
        select(ProductPrice).where(ProductPrice.product_id == product.id))}
    for currency, amount in wanted.items():
        row = existing.get(currency)
        if row is None:
            session.add(ProductPrice(product_id=product.id, currency=currency, amount=amount))
        elif row.amount != amount:
            row.amount = amount
