"""Issue 10, items 1, 10 and 16: what reaches an API view, on every route and blueprint.

* 1: a non-empty body that is not JSON is a 415 and changes nothing (it used to be ignored,
  so the action ran with its defaults: a whole refund instead of 5.00, every line cancelled);
* 10: a deeply nested JSON body is a 400 on every blueprint (payment-intents gave a 500);
* 16: anonymous callers get a 401 before anything is validated (no 422 with field details).

The route lists come from the app's url_map, so a route added later is covered too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.web import create_app

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PUBLIC = {"api.login"}  # no caller needed (auth=False in the document)
RAW = {"webhooks.receive"}  # signed raw bytes from a gateway
OPTIONAL = {"api.place_order"}  # storefront checkout: anonymous while the shop allows it
ARGUMENTS = {"number": "4821736590", "line_id": "1", "server_id": "1", "token_id": "1",
             "code": "TICKETCODE", "gateway": "stripe", "sku": "TSHIRT", "customer_id": "1",
             "invoice_id": "1", "note_id": "1", "subscription_id": "1", "name": "payments",
             "filename": "invoice.pdf"}


def body_routes(app: Any) -> Iterator[tuple[str, str, str]]:
    """(method, url, endpoint) of every API route that takes a body."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or not rule.methods & set(BODY_METHODS):
            continue
        url = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda found: ARGUMENTS[found[1]], rule.rule)
        for method in sorted(rule.methods & set(BODY_METHODS)):
            yield method, url, rule.endpoint


@pytest.fixture
def shop(make_product: Callable[..., Any], order_factory: Callable[..., Order]) -> Order:
    make_product("TSHIRT", price=1250, stock=50)
    make_product("MUG", price=800, stock=None)
    return order_factory([("TSHIRT", 2), ("MUG", 1)], paid=True)


def bearer(tokens: dict[str, str], role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


# ---------------------------------------------------------------------------- item 1


def test_form_encoded_refund_amount_is_refused_not_a_whole_refund(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    """`curl -d '{"amount":"5.00"}'` sends form-urlencoded: it used to refund 28.00."""
    before = unchanged()
    response = client.post(f"/api/v1/orders/{shop.number}/refund", data='{"amount":"5.00"}',
                           content_type="application/x-www-form-urlencoded",
                           headers=bearer(tokens))
    error = error_of(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    before()


def test_text_plain_cancel_with_chosen_lines_is_refused_not_cancel_all(
        client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any], mill: Ordermill) -> None:
    line_id = shop.lines[0].id
    before = unchanged()
    response = client.post(f"/api/v1/orders/{shop.number}/cancel",
                           data=json.dumps({"line_ids": [line_id]}), content_type="text/plain",
                           headers=bearer(tokens))
    error_of(response, 415, "unsupported_media_type")
    before()
    assert {line.status for line in mill.orders.get(shop.number).lines} == {"active"}


def test_every_body_route_refuses_a_non_json_body(
        app: Any, client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    before = unchanged()
    checked = []
    for method, url, endpoint in body_routes(app):
        if endpoint in RAW or endpoint == "api.logout":
            continue  # webhooks carry the gateway's own bytes; logout is checked below
        for content_type in ("application/x-www-form-urlencoded", "text/plain",
                             "multipart/form-data; boundary=x"):
            response = client.open(url, method=method, data="a=1", content_type=content_type,
                                   headers=bearer(tokens))
            error_of(response, 415, "unsupported_media_type")
        checked.append(endpoint)
    response = client.post("/api/v1/auth/logout", data="a=1", content_type="text/plain",
                           headers=bearer(tokens))
    error_of(response, 415, "unsupported_media_type")
    before()  # nothing changed anywhere, the token used is not revoked either
    assert {"api.refund", "api.cancel", "api.place_order", "payments.start_payment",
            "provisioning.create_server", "api.edit_buyer"} <= set(checked)


def test_an_empty_body_without_content_type_still_runs_with_defaults(
        client: Any, tokens: dict[str, str], shop: Order, mill: Ordermill) -> None:
    response = client.post(f"/api/v1/orders/{shop.number}/cancel", headers=bearer(tokens))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {line.status for line in mill.orders.get(shop.number).lines} == {"cancelled"}


def test_json_with_a_charset_is_json(client: Any, tokens: dict[str, str], shop: Order,
                                     mill: Ordermill) -> None:
    line_id = shop.lines[0].id
    response = client.post(f"/api/v1/orders/{shop.number}/cancel",
                           data=json.dumps({"line_ids": [line_id]}),
                           content_type="application/json; charset=utf-8",
                           headers=bearer(tokens))
    assert response.status_code == 200, response.get_data(as_text=True)
    statuses = {line.id: line.status for line in mill.orders.get(shop.number).lines}
    assert statuses[line_id] == "cancelled"
    assert sorted(statuses.values()) == ["active", "cancelled"]


# ---------------------------------------------------------------------------- item 10


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_json_to_payment_intents_is_400_not_500(
        client: Any, tokens: dict[str, str], shop: Order, error_of: Callable[..., Any],
        unchanged: Any) -> None:
    before = unchanged()
    body = '{"invoice_id": ' + nested(100_000) + "}"
    response = client.post(f"/api/v1/orders/{shop.number}/payment-intents", data=body,
                           content_type="application/json", headers=bearer(tokens))
    error = error_of(response, 400, "bad_request")
    assert "nested too deeply" in error["message"]
    before()


@pytest.mark.parametrize("depth", [70, 100_000])
def test_every_body_route_refuses_deep_json(
        app: Any, client: Any, tokens: dict[str, str], shop: Order, unchanged: Any,
        error_of: Callable[..., Any], depth: int) -> None:
    before = unchanged()
    for method, url, endpoint in body_routes(app):
        response = client.open(url, method=method, data=nested(depth),
                               content_type="application/json", headers=bearer(tokens))
        assert response.status_code == 400, (endpoint, response.get_data(as_text=True))
        error_of(response, 400, "bad_request")
    before()


def test_payment_intents_refuse_nul_and_unreadable_json(
        client: Any, tokens: dict[str, str], shop: Order, error_of: Callable[..., Any],
        unchanged: Any) -> None:
    """The other guards reach the payments blueprint too (it used to start a payment for an
    unreadable body, read as {})."""
    before = unchanged()
    url = f"/api/v1/orders/{shop.number}/payment-intents"
    response = client.post(url, json={"note": "a\u0000b"}, headers=bearer(tokens))
    error_of(response, 422, "validation_error")
    response = client.post(url, data="{not json", content_type="application/json",
                           headers=bearer(tokens))
    error_of(response, 400, "bad_request")
    before()


# ---------------------------------------------------------------------------- item 16


def test_anonymous_calls_get_401_before_any_validation(
        app: Any, client: Any, shop: Order, unchanged: Any,
        error_of: Callable[..., Any]) -> None:
    """Every body-taking route but login, webhooks and checkout, with a body that fails
    validation and with one that is not JSON: always 401, never a field list."""
    before = unchanged()
    checked = []
    bodies: list[dict[str, Any]] = [
        {"json": {"invoice_id": "x", "amount": 5, "status": 7, "lines": "x", "bogus": 1}},
        {"data": "a=1", "content_type": "application/x-www-form-urlencoded"},
        {"data": nested(100_000), "content_type": "application/json"},
    ]
    for method, url, endpoint in body_routes(app):
        if endpoint in PUBLIC | RAW | OPTIONAL:
            continue
        for body in bodies:
            response = client.open(url, method=method, **body)
            error = error_of(response, 401, "unauthenticated")
            assert "fields" not in error["details"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        checked.append(endpoint)
    before()
    assert len(checked) >= 20
    assert {"payments.start_payment", "payments.capture_payment", "api.refund",
            "provisioning.provision", "api.bulk_status", "api.delete_order"} <= set(checked)


def test_anonymous_reads_get_401_before_query_validation(
        client: Any, error_of: Callable[..., Any], shop: Order) -> None:
    for url in ("/api/v1/orders?sort=bogus&page=x", "/api/v1/payments?per_page=-1",
                "/api/v1/products?include_inactive=maybe"):
        error = error_of(client.get(url), 401, "unauthenticated")
        assert "fields" not in error["details"]


def test_a_revoked_token_is_401_before_validation_even_on_checkout(
        client: Any, error_of: Callable[..., Any], shop: Order) -> None:
    response = client.post("/api/v1/orders", json={"lines": "x"},
                           headers={"Authorization": "Bearer om_not_a_token"})
    error_of(response, 401, "unauthenticated")


def test_checkout_closed_to_the_public_is_401_before_validation(
        mill: Ordermill, shop: Order, unchanged: Any, error_of: Callable[..., Any]) -> None:
    app = create_app(mill, {"TESTING": True, "ORDERMILL_PUBLIC_CHECKOUT": False})
    before = unchanged()
    response = app.test_client().post("/api/v1/orders", json={"lines": "x"})
    error = error_of(response, 401, "unauthenticated")
    assert "fields" not in error["details"]
    before()


def test_open_checkout_still_validates_anonymous_bodies(
        client: Any, shop: Order, error_of: Callable[..., Any]) -> None:
    """Where anonymous calls are allowed, validation is the first refusal (422)."""
    error = error_of(client.post("/api/v1/orders", json={"lines": "x"}), 422,
                     "validation_error")
    assert "lines" in error["details"]["fields"]
