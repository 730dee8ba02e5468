"""Promo codes: rules, clear refusals, counting uses and giving them back."""

from __future__ import annotations

import datetime as dt

import pytest
from catkit import actor_of, catalogue_state
from sqlalchemy import select

from ordermill.core.catalogue import promotions
from ordermill.core.catalogue.errors import DuplicatePromoCode, PromoRefused
from ordermill.core.errors import InvalidInput, PermissionDenied
from ordermill.core.models import PromoCode
from ordermill.core.money import Money
from ordermill.core.requests import LineRequest
from ordermill.testing import order_request

ADMIN = actor_of("admin")


@pytest.fixture
def shop(mill):
    products = mill.catalogue.products
    products.create({"sku": "GIG", "name": "Jazz night", "price": "40.00", "kind": "ticket",
                     "category": "Concerts", "stock": 50, "prices": {"USD": "45.00"}},
                    actor=ADMIN)
    products.create({"sku": "MUG", "name": "Mug", "price": "10.00", "category": "Shop",
                     "stock": 50}, actor=ADMIN)
    return mill


def promo(mill, **data):
    return mill.catalogue.promos.create({"code": "CODE", "percent": "10", **data}, actor=ADMIN)


def place(mill, lines, code="CODE", email="bea@example.com", **extra):
    return mill.orders.place(order_request(lines, promo_code=code, email=email, **extra),
                             actor=actor_of("admin")).order


def test_percent_code_restricted_to_a_category(shop):
    promo(shop, categories=["Concerts"])
    order = place(shop, [("GIG", 1), ("MUG", 1)])
    assert order.discount == 400  # 10% of the concert only
    with pytest.raises(PromoRefused, match=r"Promo code CODE is only for Concerts\."):
        place(shop, [("MUG", 1)])


def test_fixed_amount_per_currency(shop):
    shop.catalogue.promos.create({"code": "FIVE", "kind": "fixed",
                                  "amounts": {"EUR": "5.00", "USD": "6.00"}}, actor=ADMIN)
    assert place(shop, [("GIG", 1)], code="FIVE").discount == 500
    assert place(shop, [("GIG", 1)], code="FIVE", currency="USD").discount == 600
    shop.catalogue.promos.create({"code": "EURO", "kind": "fixed",
                                  "amounts": {"EUR": "5.00"}}, actor=ADMIN)
    with pytest.raises(PromoRefused, match="cannot be used in USD"):
        place(shop, [("GIG", 1)], code="EURO", currency="USD")


def test_window_refusals_name_the_day(shop):
    now = dt.datetime.now(dt.UTC)
    promo(shop, valid_from=(now + dt.timedelta(days=3)).date().isoformat())
    with pytest.raises(PromoRefused, match=r"valid from \d{4}-\d\d-\d\d"):
        place(shop, [("GIG", 1)])
    promo(shop, code="LATE", valid_until="2030-10-31T12:00:00+00:00")
    with shop.read_session() as session:  # a code cannot be created already expired
        code = session.scalar(select(PromoCode).where(PromoCode.code == "LATE"))
        with pytest.raises(PromoRefused, match=r"^Promo code LATE expired on 2030-10-31\.$"):
            promotions.check_and_price(session, code, [], "EUR", email="a@b.c",
                                       statuses_closed=[], overridden=False,
                                       now=dt.datetime(2030, 11, 1, tzinfo=dt.UTC))


def test_limits_minimum_first_order_and_combining(shop):
    promo(shop, per_customer_limit=1, min_subtotal={"EUR": "30.00"})
    with pytest.raises(PromoRefused, match=r"needs a subtotal of at least 30\.00 EUR"):
        place(shop, [("MUG", 1)])
    place(shop, [("GIG", 1)])
    with pytest.raises(PromoRefused, match="1 time\\(s\\) per customer"):
        place(shop, [("GIG", 1)])
    place(shop, [("GIG", 1)], email="other@example.com")
    promo(shop, code="FIRST", first_order_only=True)
    with pytest.raises(PromoRefused, match="first order only"):
        place(shop, [("GIG", 1)], code="FIRST")
    assert place(shop, [("GIG", 1)], code="FIRST", email="new@example.com").discount == 400
    promo(shop, code="ALONE", combinable=False)
    override = LineRequest("GIG", 1, price_override=Money(3000, "EUR"))
    with pytest.raises(PromoRefused, match="cannot be combined with special prices"):
        place(shop, [override], code="ALONE")


def test_usage_limit_and_release_on_unpaid_cancel(shop):
    promo(shop, usage_limit=1)
    first = place(shop, [("GIG", 1)])
    with pytest.raises(PromoRefused, match="has been used up"):
        place(shop, [("GIG", 1)], email="two@example.com")
    shop.orders.cancel(first.number, actor=ADMIN)  # unpaid: the use comes back
    assert shop.catalogue.promos.get("CODE", actor=ADMIN)["times_used"] == 0
    second = place(shop, [("GIG", 1)], email="two@example.com")
    shop.orders.cancel(second.number, actor=ADMIN)
    shop.orders.delete(second.number, actor=ADMIN, restock=True)  # released once only
    assert shop.catalogue.promos.get("CODE", actor=ADMIN)["times_used"] == 0
    third = place(shop, [("GIG", 1)], email="three@example.com")
    shop.orders.mark_paid(third.number, actor=ADMIN)
    shop.orders.cancel(third.number, actor=ADMIN)  # paid: the use was real
    assert shop.catalogue.promos.get("CODE", actor=ADMIN)["times_used"] == 1


@pytest.mark.parametrize(("data", "error", "text"), [
    ({"percent": "0"}, InvalidInput, "more than 0"),
    ({"percent": "101"}, InvalidInput, "at most 100"),
    ({"percent": 10.5}, InvalidInput, "decimal string"),
    ({"kind": "fixed", "amounts": {"EUR": 5.0}}, InvalidInput, "float"),
    ({"kind": "fixed", "amounts": {"EUR": "-5.00"}}, InvalidInput, "negative"),
    ({"kind": "fixed", "amounts": {"XYZ": "5.00"}}, InvalidInput, "Unknown currency"),
    ({"valid_until": "2020-01-01"}, InvalidInput, "in the past"),
    ({"valid_from": "2030-02-01", "valid_until": "2030-01-01"}, InvalidInput,
     "after valid_from"),
    ({"products": ["GIG", "NOPE"]}, InvalidInput, "unknown product 'NOPE'"),
    ({"categories": ["Boats"]}, InvalidInput, "no product is in category 'Boats'"),
    ({"usage_limit": 0}, InvalidInput, "at least 1"),
    ({"code": "TAKEN"}, DuplicatePromoCode, "exists already"),
])
def test_bad_promo_codes_are_refused_and_change_nothing(shop, data, error, text):
    promo(shop, code="TAKEN")
    before = catalogue_state(shop)
    with pytest.raises(error, match=text):
        shop.catalogue.promos.create({"code": "NEW", "percent": "10", **data}, actor=ADMIN)
    assert catalogue_state(shop) == before


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_only_managers_manage_promotions(shop, role):
    promo(shop)
    before = catalogue_state(shop)
    with pytest.raises(PermissionDenied):
        shop.catalogue.promos.create({"code": "MINE", "percent": "5"}, actor=actor_of(role))
    with pytest.raises(PermissionDenied):
        shop.catalogue.promos.disable("CODE", actor=actor_of(role))
    assert catalogue_state(shop) == before
    assert [p["code"] for p in shop.catalogue.promos.list(actor=actor_of(role))] == ["CODE"]


def test_disable_and_edit(shop):
    promo(shop)
    edited = shop.catalogue.promos.update("CODE", {"percent": "15", "usage_limit": 3},
                                          actor=actor_of("manager"))
    assert edited["percent"] == "15" and edited["usage_limit"] == 3
    shop.catalogue.promos.disable("CODE", actor=actor_of("manager"))
    with pytest.raises(InvalidInput, match="not valid"):
        place(shop, [("GIG", 1)])
    history = shop.catalogue.promos.get("CODE", actor=ADMIN)["history"]
    assert [e["type"] for e in history] == ["promo_disabled", "promo_updated", "promo_created"]
