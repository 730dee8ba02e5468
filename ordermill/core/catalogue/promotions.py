"""Promo code rules at placement: is this code valid for this order, what does it take off,
and claiming one use of it race-free.

The discount itself is still `pricing.promo_discount(promo, subtotal, currency)` (the call
the price_adjustments stage of the taxes work takes over); this module decides which
subtotal that is (only the lines a restricted code applies to) and refuses, with the reason
a buyer can act on, a code the order may not use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ordermill.core import pricing
from ordermill.core.catalogue.errors import PromoRefused
from ordermill.core.catalogue_models import PromoTerms, PromoUse
from ordermill.core.models import Order, OrderLine, PromoCode, utcnow
from ordermill.core.money import percent_of
from ordermill.core.serialize import money_text

# every refusal a buyer may read, in one place
NOT_YET = "Promo code {code} is valid from {day}."
EXPIRED = "Promo code {code} expired on {day}."
USED_UP = "Promo code {code} has been used up."
PER_CUSTOMER = "Promo code {code} can be used {limit} time(s) per customer; you have used it."
MIN_SUBTOTAL = "Promo code {code} needs a subtotal of at least {amount} {currency}."
NO_AMOUNT = "Promo code {code} cannot be used in {currency}."
ONLY_FOR = "Promo code {code} is only for {names}."
FIRST_ORDER = "Promo code {code} is for a first order only."
NOT_COMBINABLE = "Promo code {code} cannot be combined with special prices."


@attrs.frozen
class PromoOutcome:
    """The discount a code gives this order and the lines it is spread over."""

    discount: int
    lines: tuple[OrderLine, ...]


def terms_of(session: Session, promo: PromoCode) -> PromoTerms | None:
    return session.get(PromoTerms, promo.id)


def _day(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).date().isoformat()


def _refuse(template: str, promo: PromoCode, **values: Any) -> PromoRefused:
    return PromoRefused(template.format(code=promo.code, **values),
                        details={"promo_code": promo.code, "field": "promo_code"})


def eligible_lines(terms: PromoTerms | None, lines: Sequence[OrderLine]) -> list[OrderLine]:
    if terms is None or not (terms.products or terms.categories):
        return list(lines)
    return [line for line in lines
            if line.sku in terms.products or (line.category or "") in terms.categories]


def restriction_names(session: Session, terms: PromoTerms) -> str:
    """'Concerts' or 'T-shirt (TSHIRT), Concerts': what a restricted code is for."""
    from ordermill.core.models import Product

    names = []
    if terms.products:
        rows = session.execute(select(Product.sku, Product.name)
                               .where(Product.sku.in_(terms.products))).all()
        found = dict(rows)
        names.extend(f"{found.get(sku, sku)} ({sku})" for sku in terms.products)
    names.extend(terms.categories)
    return ", ".join(names)


def check_and_price(session: Session, promo: PromoCode | None, lines: Sequence[OrderLine],
                    currency: str, *, email: str, statuses_closed: Sequence[str],
                    overridden: bool, now: dt.datetime | None = None) -> PromoOutcome:
    """Refuse a code this order may not use, else its discount and the lines it covers."""
    if promo is None:
        return PromoOutcome(0, ())
    terms = terms_of(session, promo)
    if terms is None:  # a code from before issue 18: no rules beyond kind and value
        subtotal = sum(line.unit_price * line.quantity for line in lines)
        return PromoOutcome(pricing.promo_discount(promo, subtotal, currency), tuple(lines))
    now = now or utcnow()
    if terms.valid_from is not None and now < terms.valid_from:
        raise _refuse(NOT_YET, promo, day=_day(terms.valid_from))
    if terms.valid_until is not None and now >= terms.valid_until:
        raise _refuse(EXPIRED, promo, day=_day(terms.valid_until))
    if terms.usage_limit is not None and terms.times_used >= terms.usage_limit:
        raise _refuse(USED_UP, promo)
    if not terms.combinable and overridden:
        raise _refuse(NOT_COMBINABLE, promo)
    if terms.per_customer_limit is not None:
        used = session.scalar(select(func.count()).select_from(PromoUse).where(
            PromoUse.promo_code_id == promo.id, PromoUse.customer_email == email,
            PromoUse.released_at.is_(None))) or 0
        if used >= terms.per_customer_limit:
            raise _refuse(PER_CUSTOMER, promo, limit=terms.per_customer_limit)
    if terms.first_order_only:
        earlier = session.scalar(select(func.count()).select_from(Order).where(
            Order.buyer_email == email, Order.status.not_in(list(statuses_closed)))) or 0
        if earlier:
            raise _refuse(FIRST_ORDER, promo)
    covered = eligible_lines(terms, lines)
    if not covered:
        raise _refuse(ONLY_FOR, promo, names=restriction_names(session, terms))
    subtotal = sum(line.unit_price * line.quantity for line in covered)
    minimum = (terms.min_subtotal or {}).get(currency)
    if minimum is not None and sum(line.unit_price * line.quantity for line in lines) < minimum:
        raise _refuse(MIN_SUBTOTAL, promo, amount=money_text(minimum, currency),
                      currency=currency)
    return PromoOutcome(_discount(promo, terms, subtotal, currency), tuple(covered))


def _discount(promo: PromoCode, terms: PromoTerms, subtotal: int, currency: str) -> int:
    if promo.kind == "percent":
        return min(subtotal, percent_of(subtotal, promo.value))
    amounts = terms.amounts or {}
    if currency in amounts:
        return min(subtotal, int(amounts[currency]))
    if promo.currency in (None, currency):
        return pricing.promo_discount(promo, subtotal, currency)
    raise _refuse(NO_AMOUNT, promo, currency=currency)


def claim(session: Session, promo: PromoCode | None, order_number: str, email: str) -> None:
    """Count one use: a conditional UPDATE, so a limit is never passed under concurrency."""
    if promo is None or terms_of(session, promo) is None:
        return
    result = session.execute(
        update(PromoTerms).where(
            PromoTerms.promo_code_id == promo.id,
            (PromoTerms.usage_limit.is_(None))
            | (PromoTerms.times_used < PromoTerms.usage_limit))
        .values(times_used=PromoTerms.times_used + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _refuse(USED_UP, promo)
    session.add(PromoUse(promo_code_id=promo.id, order_number=order_number,
                         customer_email=email, created_at=utcnow()))


__all__ = ["PromoOutcome", "check_and_price", "claim", "eligible_lines"]
