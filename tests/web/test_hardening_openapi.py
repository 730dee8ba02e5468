"""Issue 10, item 22: the OpenAPI document states what the server enforces.

schemathesis with every check on found requests valid by the document that were refused (an
order number "0" or "µ", a status filter outside the registry, a bulk status of any text)
and OPTIONS answers whose Allow header named methods the document does not have. Each of
those, and the server side of each declaration, is pinned here; test_api_schemathesis runs
the whole document with every check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import Order

CUSTOM = {"name": "on_hold", "label": "On hold", "category": "pending",
          "transitions": ["active"], "reachable_from": ["pending"]}


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"custom_statuses": (CUSTOM,)}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


@pytest.fixture
def shop(make_product: Callable[..., Any], order_factory: Callable[..., Order]) -> Order:
    make_product("TSHIRT", price=1250, stock=50)
    return order_factory([("TSHIRT", 1)])


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['admin']}"}


def parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    found = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
    assert len(found) == 1, (path, method, name)
    return dict(found[0])


def test_order_numbers_are_declared_as_ten_digits(document: dict[str, Any]) -> None:
    paths = [path for path in document["paths"] if "{number}" in path]
    assert len(paths) >= 15
    for path in paths:
        for method in document["paths"][path]:
            schema = parameter(document, path, method, "number")["schema"]
            assert schema == {"type": "string", "pattern": "^[0-9]{10}$"}, (path, method)


@pytest.mark.parametrize("number", ["0", "\u00b5", "12345", "48217365901", "\u0663" * 10])
def test_what_is_not_an_order_number_is_404_order_not_found(
        client: Any, tokens: dict[str, str], error_of: Callable[..., Any], shop: Order,
        number: str, unchanged: Any) -> None:
    before = unchanged()
    error_of(client.get(f"/api/v1/orders/{number}", headers=bearer(tokens)), 404,
             "order_not_found")
    error_of(client.post(f"/api/v1/orders/{number}/cancel", headers=bearer(tokens)), 404,
             "order_not_found")
    before()


def test_statuses_are_the_live_registry(document: dict[str, Any], mill: Ordermill) -> None:
    live = sorted(spec.name for spec in mill.statuses)
    assert "on_hold" in live
    schemas = document["components"]["schemas"]
    assert schemas["StatusIn"]["properties"]["status"]["enum"] == live
    assert schemas["BulkStatusIn"]["properties"]["status"]["enum"] == live
    for path in ("/api/v1/orders", "/api/v1/orders/export.csv"):
        assert parameter(document, path, "get", "status")["schema"]["items"]["enum"] == live


def test_a_status_filter_outside_the_registry_is_refused(
        client: Any, tokens: dict[str, str], error_of: Callable[..., Any], shop: Order) -> None:
    error = error_of(client.get("/api/v1/orders?status=lost", headers=bearer(tokens)), 422)
    assert error["details"]["field"] == "status"
    error_of(client.get("/api/v1/orders/export.csv?status=pending,lost",
                        headers=bearer(tokens)), 422)
    listed = client.get("/api/v1/orders?status=on_hold,pending", headers=bearer(tokens))
    assert listed.status_code == 200 and listed.get_json()["total"] == 1


def test_gateways_and_modules_are_the_installed_ones(document: dict[str, Any],
                                                     mill: Ordermill) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["PlaceIn"]["properties"]["payment_method"]["enum"] == sorted(mill.gateways)
    assert {"etickets", "webhook"} <= set(schemas["ServerIn"]["properties"]["module"]["enum"])


def test_money_declares_ascii_digits_decimals_and_bound(document: dict[str, Any]) -> None:
    amount = document["components"]["schemas"]["PaymentIn"]["properties"]["amount"]
    pattern = re.compile(amount["pattern"])
    assert "999,999,999,999 minor units" in amount["description"]
    for good in ("12.50", "12.5", "12.500", "9999999999.99", "0"):
        assert pattern.match(good), good
    for bad in ("6.800770", "12345678901", "\u0663", "\uff11", "-1", "1.", "1e3"):
        assert not pattern.match(bad), bad


@pytest.mark.parametrize(("path", "allowed"), [
    ("/api/v1/orders/export.csv", {"GET", "HEAD", "OPTIONS"}),
    ("/api/v1/orders/bulk-status", {"POST", "OPTIONS"}),
    ("/api/v1/orders/4821736590", {"GET", "HEAD", "OPTIONS", "PATCH", "DELETE"}),
])
def test_options_allow_names_exactly_the_documented_methods(
        client: Any, tokens: dict[str, str], document: dict[str, Any], path: str,
        allowed: set[str]) -> None:
    """export.csv and bulk-status used to match /orders/<number> too (PATCH, DELETE)."""
    response = client.options(path, headers=bearer(tokens))
    advertised = {m.strip() for m in response.headers["Allow"].split(",")}
    assert advertised == allowed
    documented_path = re.sub(r"/[0-9]{10}$", "/{number}", path)
    declared = {method.upper() for method in document["paths"][documented_path]}
    assert advertised - {"HEAD", "OPTIONS"} == declared


def test_ids_past_their_range_are_404_not_405(
        client: Any, tokens: dict[str, str], error_of: Callable[..., Any],
        document: dict[str, Any]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open("/api/v1/provisioning/servers/93710938026430376706048",
                               method=method, json={}, headers=bearer(tokens))
        error_of(response, 404)
    schema = parameter(document, "/api/v1/provisioning/servers/{server_id}", "get",
                       "server_id")["schema"]
    assert schema == {"type": "integer", "minimum": 0, "maximum": 2147483647}
    error_of(client.delete("/api/v1/auth/tokens/2147483648", headers=bearer(tokens)), 404)


def test_a_line_the_url_names_is_404_and_one_in_the_body_422(
        client: Any, tokens: dict[str, str], error_of: Callable[..., Any], shop: Order,
        unchanged: Any) -> None:
    """The URL names a resource (404, like an unknown order); a body's reference to a line or
    an invoice the order lacks is invalid input (422), like an unknown sku."""
    before = unchanged()
    error_of(client.post(f"/api/v1/orders/{shop.number}/lines/999999/provision", json={},
                         headers=bearer(tokens)), 404, "line_not_found")
    error_of(client.post(f"/api/v1/orders/{shop.number}/cancel", json={"line_ids": [999999]},
                         headers=bearer(tokens)), 422, "invalid_input")
    error_of(client.post(f"/api/v1/orders/{shop.number}/payments",
                         json={"amount": "1.00", "invoice_id": 999999},
                         headers=bearer(tokens)), 422, "invalid_input")
    before()


def test_secured_operations_document_401_and_bodies_415(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if any(operation.get("security", [])):
                assert "401" in operation["responses"], (path, method)
            if "requestBody" in operation and not operation.get("x-ordermill-raw-body"):
                assert "415" in operation["responses"], (path, method)
            elif "requestBody" in operation:  # a gateway webhook: any content type, no 415
                assert "415" not in operation["responses"], (path, method)
