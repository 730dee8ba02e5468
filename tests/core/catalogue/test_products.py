"""Product actions: create, edit, archive, stock adjustments, prices per currency, history."""

from __future__ import annotations

import pytest
from catkit import actor_of, assert_ledger_balances, catalogue_state

from ordermill.core.catalogue.errors import DuplicateSku, NegativeStock, ProductNotFound
from ordermill.core.errors import InvalidInput, PermissionDenied
from ordermill.testing import order_request

ADMIN = actor_of("admin")
SHIRT = {"sku": "SHIRT", "name": "T-shirt", "price": "12.50", "currency": "EUR",
         "stock": 10, "category": "Clothes", "prices": {"USD": "14.00"},
         "tax_class": "reduced", "low_stock_threshold": 3}


def test_create_edit_archive_with_history(mill):
    created = mill.catalogue.products.create(SHIRT, actor=ADMIN)
    assert created["prices"] == {"EUR": "12.50", "USD": "14.00"}
    assert created["stock"] == 10 and created["tax_class"] == "reduced"
    assert created["low_stock"] is False
    edited = mill.catalogue.products.update("SHIRT", {"price": "13.00", "stock": 2},
                                            actor=ADMIN)
    assert edited["price"] == "13.00" and edited["stock"] == 2 and edited["low_stock"]
    assert set(edited["changes"]) >= {"price", "stock", "prices", "low_stock"}
    archived = mill.catalogue.products.archive("SHIRT", actor=ADMIN)
    assert archived["active"] is False
    shown = mill.catalogue.products.get("SHIRT", actor=actor_of("viewer"))
    assert [e["type"] for e in shown["history"]] == [
        "product_archived", "product_updated", "product_created"]
    assert [(m["kind"], m["change"], m["reason"]) for m in shown["ledger"]] == [
        ("adjustment", -8, "counted"), ("opening", 10, None)]
    assert_ledger_balances(mill)


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_managers_manage_the_catalogue(mill, role):
    mill.catalogue.products.create(SHIRT, actor=actor_of(role))
    mill.catalogue.products.adjust_stock("SHIRT", change="+5", reason="received",
                                         actor=actor_of(role))
    assert mill.catalogue.products.get("SHIRT", actor=actor_of(role))["stock"] == 15


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewer_only_read(mill, role):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    before = catalogue_state(mill)
    actor = actor_of(role)
    for attempt in (
        lambda: mill.catalogue.products.create({**SHIRT, "sku": "OTHER"}, actor=actor),
        lambda: mill.catalogue.products.update("SHIRT", {"name": "X"}, actor=actor),
        lambda: mill.catalogue.products.archive("SHIRT", actor=actor),
        lambda: mill.catalogue.products.adjust_stock("SHIRT", change=1, reason="received",
                                                     actor=actor),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert catalogue_state(mill) == before
    assert mill.catalogue.products.get("SHIRT", actor=actor)["sku"] == "SHIRT"


@pytest.mark.parametrize(("change", "error", "text"), [
    ({"price": "-1.00"}, InvalidInput, "negative"),
    ({"price": 12.5}, InvalidInput, "float"),
    ({"stock": -1}, InvalidInput, "stock: must be at least 0"),
    ({"currency": "XYZ"}, InvalidInput, "Unknown currency"),
    ({"prices": {"ABC": "1.00"}}, InvalidInput, "Unknown currency"),
    ({"kind": "boat"}, InvalidInput, "kind"),
    ({"tax_class": "luxury"}, InvalidInput, "tax_class"),
    ({"sku": "has space"}, InvalidInput, "sku"),
    ({"colour": "red"}, InvalidInput, "colour: is not a field"),
    ({"sku": "SHIRT"}, DuplicateSku, "exists already"),
])
def test_bad_products_are_refused_and_change_nothing(mill, change, error, text):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    before = catalogue_state(mill)
    with pytest.raises(error, match=text):
        mill.catalogue.products.create({**SHIRT, "sku": "NEW", **change}, actor=ADMIN)
    assert catalogue_state(mill) == before


def test_stock_adjustments_relative_and_counted(mill):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    products = mill.catalogue.products
    assert products.adjust_stock("SHIRT", change="+5", reason="received", actor=ADMIN)[
        "stock"] == 15
    assert products.adjust_stock("SHIRT", change=-2, reason="damaged", actor=ADMIN)[
        "stock"] == 13
    counted = products.adjust_stock("SHIRT", count=20, actor=ADMIN)
    assert (counted["change"], counted["stock"], counted["reason"]) == (7, 20, "counted")
    before = catalogue_state(mill)
    with pytest.raises(NegativeStock, match="only 20 in stock"):
        products.adjust_stock("SHIRT", change=-21, reason="damaged", actor=ADMIN)
    with pytest.raises(InvalidInput, match="reason"):
        products.adjust_stock("SHIRT", change=1, reason="stolen", actor=ADMIN)
    with pytest.raises(InvalidInput, match="whole number"):
        products.adjust_stock("SHIRT", change="1.5", reason="received", actor=ADMIN)
    with pytest.raises(ProductNotFound):
        products.adjust_stock("NOPE", change=1, reason="received", actor=ADMIN)
    assert catalogue_state(mill) == before
    assert_ledger_balances(mill)


def test_dry_run_changes_nothing(mill):
    before = catalogue_state(mill)
    preview = mill.catalogue.products.create(SHIRT, actor=ADMIN, dry_run=True)
    assert preview["sku"] == "SHIRT"
    assert catalogue_state(mill) == before


def test_order_in_another_currency_uses_that_price(mill, staff):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    usd = mill.orders.place(order_request([("SHIRT", 2)], currency="USD"), actor=staff).order
    assert (usd.currency, usd.total) == ("USD", 2800)
    eur = mill.orders.place(order_request([("SHIRT", 1)]), actor=staff).order
    assert (eur.currency, eur.total) == ("EUR", 1250)
    with pytest.raises(InvalidInput, match=r"T-shirt \(SHIRT\) has no price in GBP; it sells "
                                           r"in EUR, USD"):
        mill.orders.place(order_request([("SHIRT", 1)], currency="GBP"), actor=staff)
    assert_ledger_balances(mill)


def test_placing_writes_holds_and_cancelling_releases(mill, staff):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    order = mill.orders.place(order_request([("SHIRT", 3)]), actor=staff).order
    mill.orders.cancel(order.number, actor=staff)
    ledger = mill.catalogue.products.ledger("SHIRT", actor=ADMIN)
    assert [(m["kind"], m["change"], m["reason"], m["order_number"])
            for m in ledger["movements"]][:2] == [
        ("release", 3, "cancel", order.number), ("hold", -3, None, order.number)]
    assert ledger["stock"] == ledger["ledger_total"] == 10


def test_cancel_without_restock_writes_off(mill, staff):
    mill.catalogue.products.create(SHIRT, actor=ADMIN)
    order = mill.orders.place(order_request([("SHIRT", 3)]), actor=staff).order
    mill.orders.cancel(order.number, actor=staff, restock=False)
    mill.orders.delete(order.number, actor=staff, restock=False)
    ledger = mill.catalogue.products.ledger("SHIRT", actor=ADMIN)
    write_offs = [m for m in ledger["movements"] if m["kind"] == "write_off"]
    assert [(m["change"], m["units"]) for m in write_offs] == [(0, 3)]  # once, not twice
    assert ledger["stock"] == ledger["ledger_total"] == 7
