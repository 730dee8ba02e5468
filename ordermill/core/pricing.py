"""Turning requested lines into priced, discounted order lines (place and add_lines share it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import Session

from ordermill.core.errors import InvalidInput, UnknownProduct
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import gettext as _
from ordermill.core.models import OrderLine, Product, PromoCode
from ordermill.core.money import allocate, check_bound, percent_of
from ordermill.core.persistent import persistent
from ordermill.core.requests import LineRequest

_PRODUCTS = Product.__table__


def load_products(session: Session, skus: Sequence[str]) -> dict[str, Product]:
    """The products for these skus in one query; unknown or retired skus are refused."""
    wanted = sorted(set(skus))
    found = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(wanted)))}
    _refuse_missing(wanted, found)
    return found


def load_priced_products(session: Session, skus: Sequence[str]
                         ) -> tuple[dict[str, Product], dict[int, dict[str, int]]]:
    """The products (as load_products) and their price_table, read in one query (placing
    pays one statement for both instead of three)."""
    wanted = sorted(set(skus))
    found: dict[str, Product] = {}
    table: dict[int, dict[str, int]] = {}
    width = len(_PRODUCTS.c)
    # Core rows made into the products a query would load (core/persistent.py): the ORM's
    # loading of three rows cost more than the statement (a twelfth of a placement)
    statement = _priced_query(len(wanted))
    for row in statement.rows(session.connection(),
                              {f"sku_{index}": sku for index, sku in enumerate(wanted)}):
        product = persistent(session, Product, row[:width])
        currency, amount = row[width:]
        found[product.sku] = product
        prices = table.setdefault(product.id, {})
        if currency is not None:
            prices[currency] = amount
    _refuse_missing(wanted, found)
    return found, table


@lru_cache(maxsize=64)
def _priced_query(count: int) -> HotStatement:
    """load_priced_products' statement for `count` skus (`sku_<i>`), built once per count:
    building it on every placement cost more than SQLite took to run it."""
    from ordermill.core.catalogue_models import ProductPrice

    prices = ProductPrice.__table__
    skus = [bindparam(f"sku_{index}", type_=String) for index in range(count)]
    return HotStatement(
        select(*_PRODUCTS.c, prices.c.currency, prices.c.amount)
        .select_from(_PRODUCTS.outerjoin(prices, prices.c.product_id == _PRODUCTS.c.id))
        .where(_PRODUCTS.c.sku.in_(skus)))


def _refuse_missing(wanted: Sequence[str], found: Mapping[str, Product]) -> None:
    missing = [sku for sku in wanted if sku not in found or not found[sku].active]
    if missing:
        retired = [sku for sku in missing if sku in found]
        raise UnknownProduct(
            f"Unknown product{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
            + (f" No longer for sale: {', '.join(retired)}." if retired else ""),
            details={"skus": missing},
        )


def load_promo(session: Session, code: str | None) -> PromoCode | None:
    if not code:
        return None
    promo = session.scalar(select(PromoCode).where(PromoCode.code == code.strip()))
    if promo is None or not promo.active:
        raise InvalidInput(_("Promo code %(code)s is not valid.", code=repr(code)),
                           details={"promo_code": code})
    return promo


def active_promo(session: Session, code: str | None) -> PromoCode | None:
    """The promo if it is still active, else None: editing an order whose promo has since
    ended must not fail, the added products just get no discount."""
    if not code:
        return None
    promo = session.scalar(select(PromoCode).where(PromoCode.code == code.strip()))
    return promo if promo is not None and promo.active else None


def build_lines(
    requests: Sequence[LineRequest], products: dict[str, Product], currency: str | None,
    subtotal_before: int = 0, *, prices: Mapping[str, int] | None = None,
) -> tuple[list[OrderLine], str]:
    """Undiscounted lines and their common currency; mixed currencies are refused.

    With `prices` ({sku: unit price in `currency`}, from catalogue.prices) each product is
    priced in the order's currency instead of its main one.

    Every line total and the order's new subtotal (`subtotal_before` plus these lines) must
    stay within the money bound, checked here before anything reaches the database.
    """
    lines = []
    for request in requests:
        product = products[request.sku]
        line_currency = product.currency
        unit_price = product.price
        if prices is not None and currency is not None:
            line_currency, unit_price = currency, prices[request.sku]
        sells_in = line_currency
        if request.price_override is not None:
            line_currency = request.price_override.currency
            unit_price = request.price_override.amount
        if line_currency != sells_in:
            raise InvalidInput(
                _("Price override of %(sku)s is in %(line_currency)s, the product sells in "
                  "%(sells_in)s.", sku=request.sku, line_currency=line_currency, sells_in=sells_in)
            )
        currency = currency or line_currency
        if line_currency != currency:
            raise InvalidInput(
                _("All products of an order must share one currency: %(sku)s is %(line_currency)s, "
                  "the order is %(currency)s.", sku=request.sku, line_currency=line_currency,
                  currency=currency),
                details={"sku": request.sku},
            )
        lines.append(OrderLine(
            product_id=product.id, sku=product.sku, name=product.name,
            category=product.category, kind=product.kind, quantity=request.quantity,
            unit_price=unit_price, discount=0, total=unit_price * request.quantity,
            status="active", units_held=0, units_released=0, refunded_amount=0,
            attendee=request.attendee, domain=request.domain,
            billing_cycle=request.billing_cycle or product.billing_cycle,
            provisioning_status="pending" if product.provisioning_module else None,
            options=dict(request.options),
        ))
    assert currency is not None
    for index, line in enumerate(lines):
        check_bound(line.total, currency, f"lines.{index}.total")
    check_bound(subtotal_before + sum(line.total for line in lines), currency, "total")
    return lines, currency


def promo_discount(promo: PromoCode | None, subtotal: int, currency: str) -> int:
    """The discount a promo gives on `subtotal`, never more than the subtotal."""
    if promo is None:
        return 0
    if promo.kind == "percent":
        return min(subtotal, percent_of(subtotal, promo.value))
    if promo.currency and promo.currency != currency:
        raise InvalidInput(_("Promo code %(code)s is in %(currency)s, the order is in "
                             "%(currency2)s.", code=repr(promo.code), currency=promo.currency,
                             currency2=currency))
    return min(subtotal, promo.value)


def apply_discount(lines: Sequence[OrderLine], discount: int) -> None:
    """Spread an order discount over lines in proportion to their value (cents add up)."""
    shares = allocate(discount, [line.unit_price * line.quantity for line in lines])
    for line, share in zip(lines, shares, strict=True):
        line.discount = share
        line.total = line.unit_price * line.quantity - share
