"""/api/v1/products and /api/v1/promo-codes: success, each role's permission, and bad input
(duplicate sku, negative price or stock, unknown currency, float-looking money, an expired
window, an unknown product in a restriction): each a clear JSON error and no change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ordermill.core.models import Product, PromoCode
from ordermill.testing_web import snapshot

SHIRT = {"sku": "SHIRT", "name": "T-shirt", "price": "12.50", "currency": "EUR", "stock": 10,
         "category": "Clothes", "prices": {"USD": "14.00"}}
WRITERS = ("admin", "manager")
READERS = ("support", "viewer")


def state(mill: Any) -> dict[str, Any]:
    """Every row count, plus what a refused edit could have changed in place."""
    with mill.read_session() as session:
        return {**snapshot(mill),
                "products": sorted((p.sku, p.name, p.price, p.currency, p.active, p.kind)
                                   for p in session.scalars(select(Product))),
                "promos": sorted((p.code, p.kind, p.value, p.active)
                                 for p in session.scalars(select(PromoCode)))}


@pytest.fixture
def shirt(api: Any) -> dict[str, Any]:
    response = api.post("products", json=SHIRT)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("role", WRITERS)
def test_product_crud_for_admin_and_manager(api, role):
    created = api.post("products", role=role, json=SHIRT)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["prices"] == {"EUR": "12.50", "USD": "14.00"}
    edited = api.patch("products/SHIRT", role=role, json={"price": "13.00", "stock": 4})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["changes"]["price"] == ["12.50", "13.00"]
    adjusted = api.post("products/SHIRT/stock", role=role,
                        json={"change": 6, "reason": "received"})
    assert adjusted.get_json()["stock"] == 10
    ledger = api.get("products/SHIRT/ledger", role="viewer").get_json()
    assert [m["kind"] for m in ledger["movements"]] == ["adjustment", "adjustment", "opening"]
    assert ledger["stock"] == ledger["ledger_total"] == 10
    archived = api.post("products/SHIRT/archive", role=role)
    assert archived.get_json()["active"] is False
    shown = api.get("products/SHIRT", role="support").get_json()
    assert [e["type"] for e in shown["history"]][:2] == ["product_archived", "stock_adjusted"]
    listed = api.get("products?include_inactive=true", role="viewer").get_json()
    assert [p["sku"] for p in listed["products"]] == ["SHIRT"]


@pytest.mark.parametrize("role", READERS)
def test_support_and_viewer_read_but_may_not_write(api, mill, shirt, role, error_of):
    before = state(mill)
    for method, path, body in (
        ("POST", "products", {**SHIRT, "sku": "OTHER"}),
        ("PATCH", "products/SHIRT", {"name": "Renamed"}),
        ("POST", "products/SHIRT/archive", None),
        ("POST", "products/SHIRT/stock", {"change": 1, "reason": "received"}),
        ("POST", "products/import", {"csv": "sku,name,price\nNEW,New,1.00\n"}),
        ("POST", "promo-codes", {"code": "NEW", "percent": "10"}),
    ):
        error_of(api.request(method, path, role=role, json=body), 403, "permission_denied")
    assert state(mill) == before
    assert api.get("products/SHIRT", role=role).status_code == 200
    assert api.get("promo-codes", role=role).status_code == 200
    assert api.get("products/export.csv", role=role).status_code == 200


def test_anonymous_calls_are_refused(api, error_of):
    error_of(api.post("products", role=None, json=SHIRT), 401)
    error_of(api.get("promo-codes", role=None), 401)


@pytest.mark.parametrize(("body", "status", "code", "text"), [
    ({"sku": "SHIRT"}, 409, "duplicate_sku", "exists already"),
    ({"price": "-1.00"}, 422, None, "no sign"),
    ({"price": 12.5}, 422, None, "not a JSON number"),
    ({"stock": -1}, 422, None, None),
    ({"currency": "XYZ"}, 422, "validation_error", "Unknown currency 'XYZ'"),
    ({"prices": {"USD": 14.0}}, 422, None, "not a JSON number"),
    ({"kind": "boat"}, 422, None, None),
    ({"colour": "red"}, 422, None, None),
])
def test_bad_products_are_clear_errors_and_change_nothing(api, mill, shirt, error_of, body,
                                                          status, code, text):
    before = state(mill)
    error = error_of(api.post("products", json={**SHIRT, "sku": "NEW", **body}), status, code)
    if text:
        assert text in str(error), error
    assert state(mill) == before


def test_bad_edits_and_adjustments_change_nothing(api, mill, shirt, error_of):
    before = state(mill)
    error_of(api.patch("products/SHIRT", json={"price": "-2"}), 422)
    error_of(api.patch("products/NOPE", json={"price": "2.00"}), 404, "product_not_found")
    error_of(api.post("products/SHIRT/stock", json={"change": -11, "reason": "damaged"}),
             409, "negative_stock")
    error_of(api.post("products/SHIRT/stock", json={"count": -1}), 422)
    error_of(api.post("products/SHIRT/stock", json={"change": 1, "reason": "stolen"}), 422)
    assert state(mill) == before


def test_dry_run_and_idempotency_key_on_create(api, mill, error_of):
    before = state(mill)
    preview = api.post("products?dry_run=true", json=SHIRT)
    assert preview.status_code == 200 and preview.get_json()["sku"] == "SHIRT"
    assert state(mill) == before
    headers = {"Idempotency-Key": "create-shirt-1"}
    first = api.post("products", json=SHIRT, headers=headers)
    again = api.post("products", json=SHIRT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json()
    error_of(api.post("products", json={**SHIRT, "name": "Other"}, headers=headers), 422,
             "idempotency_key_reused")


def test_import_dry_run_then_import_then_export(api, mill):
    csv_text = "sku,name,price,currency,stock\nMUG,Mug,10.00,EUR,5\nBAD,Bad,-1,EUR,1\n"
    dry = api.post("products/import?dry_run=true", json={"csv": csv_text}).get_json()
    real = api.post("products/import", json={"csv": csv_text}).get_json()
    assert {**dry, "dry_run": False} == real
    assert real["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "refused": 1}
    exported = api.get("products/export.csv").get_data(as_text=True)
    assert "MUG,Mug,physical" in exported


PROMO = {"code": "GIGS", "percent": "10", "usage_limit": 5, "categories": ["Clothes"]}


@pytest.mark.parametrize("role", WRITERS)
def test_promo_code_crud(api, shirt, role):
    created = api.post("promo-codes", role=role, json=PROMO)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["categories"] == ["Clothes"]
    edited = api.patch("promo-codes/GIGS", role=role, json={"percent": "15"})
    assert edited.get_json()["percent"] == "15"
    disabled = api.post("promo-codes/GIGS/disable", role=role)
    assert disabled.get_json()["active"] is False
    listed = api.get("promo-codes", role="viewer").get_json()["promo_codes"]
    assert [(p["code"], p["active"]) for p in listed] == [("GIGS", False)]


@pytest.mark.parametrize(("body", "status", "code", "text"), [
    ({"code": "TAKEN"}, 409, "duplicate_promo_code", "exists already"),
    ({"valid_until": "2020-10-31T00:00:00+00:00"}, 422, "invalid_input", "in the past"),
    ({"valid_from": "2031-01-02T00:00:00Z", "valid_until": "2031-01-01T00:00:00Z"}, 422,
     "invalid_input", "after valid_from"),
    ({"products": ["NOPE"]}, 422, "invalid_input", "unknown product 'NOPE'"),
    ({"kind": "fixed", "amounts": {"EUR": 5}}, 422, None, "not a JSON number"),
    ({"kind": "fixed", "amounts": {"XYZ": "5.00"}}, 422, "invalid_input", "Unknown currency"),
    ({"percent": 10}, 422, None, None),
])
def test_bad_promo_codes_are_clear_errors_and_change_nothing(api, mill, shirt, error_of, body,
                                                             status, code, text):
    assert api.post("promo-codes", json={"code": "TAKEN", "percent": "5"}).status_code == 201
    before = state(mill)
    error = error_of(api.post("promo-codes", json={"code": "NEW", "percent": "10", **body}),
                     status, code)
    if text:
        assert text in str(error), error
    assert state(mill) == before


def test_place_with_currency_and_a_restricted_code(api, shirt, place_body, error_of):
    api.post("products", json={"sku": "MUG", "name": "Mug", "price": "5.00", "stock": 3,
                               "category": "Kitchen", "prices": {"USD": "6.00"}})
    assert api.post("promo-codes", json=PROMO).status_code == 201
    placed = api.post("orders", json=place_body(("SHIRT", 1), ("MUG", 1), promo_code="GIGS",
                                                currency="USD"))
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()["order"]
    assert (order["currency"], order["discount"], order["total"]) == ("USD", "1.40", "18.60")
    refused = api.post("orders", json=place_body(("MUG", 1), promo_code="GIGS"))
    assert error_of(refused, 422, "promo_refused")["message"] == \
        "Promo code GIGS is only for Clothes."
    no_price = api.post("orders", json=place_body(("SHIRT", 1), currency="GBP"))
    assert "has no price in GBP" in error_of(no_price, 422)["message"]
