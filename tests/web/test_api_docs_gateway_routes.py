"""Issue 12: the payment-intent, payment-capture and webhook routes are in the OpenAPI document
and in docs/api.md (a gateway author found them only in the URL map).

Each is a documented operation with its body, its answers and its security: the webhook takes
a signed raw body with no token, no CSRF token and no JSON-only guard (so no 415); the two
payment routes need a caller like the rest of the API. Documenting them changed nothing they
accept: an empty payment-intent body still runs, a webhook in any content type still reaches
its gateway. And no other /api/ route hides in the URL map.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import Order

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
WEBHOOK = "/api/v1/webhooks/{gateway}"
INTENTS = "/api/v1/orders/{number}/payment-intents"
CAPTURES = "/api/v1/orders/{number}/payment-captures"
NOT_OPERATIONS = {"openapi.spec", "openapi.docs", "docs_asset"}  # the document and its page


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """Stripe with a webhook secret: an unsigned event is refused as in production."""
    return {"plugins": {"payment_stripe": {"webhook_secret": "whsec_docs_test"}}}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def operation(document: dict[str, Any], path: str) -> dict[str, Any]:
    assert path in document["paths"], sorted(document["paths"])
    assert set(document["paths"][path]) == {"post"}
    return dict(document["paths"][path]["post"])


def schema_of(document: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    ref = content["application/json"]["schema"]["$ref"]
    return dict(document["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def test_the_webhook_is_documented_as_a_signed_raw_body_without_token(
        document: dict[str, Any], mill: Ordermill) -> None:
    webhook = operation(document, WEBHOOK)
    assert not webhook.get("security")  # no bearer token: the gateway's signature
    assert webhook["x-ordermill-raw-body"] is True
    assert "signature" in webhook["description"] and "raw bytes" in webhook["description"]
    assert "CSRF" in webhook["description"] and "JSON-only" in webhook["description"]
    assert {"200", "400", "404", "500", "502", "503"} <= set(webhook["responses"])
    assert "415" not in webhook["responses"] and "401" not in webhook["responses"]
    assert webhook["requestBody"]["required"] is True
    answer = schema_of(document, webhook["responses"]["200"]["content"])
    assert set(answer["required"]) == {"received", "replay", "outcome"}
    gateway = next(p for p in webhook["parameters"] if p["name"] == "gateway")
    takes_webhooks = sorted(name for name, spec in mill.gateways.items()
                            if spec.parse_webhook is not None)
    assert {"paypal", "stripe"} <= set(takes_webhooks)
    assert gateway["in"] == "path" and gateway["schema"]["enum"] == takes_webhooks
    assert "banktransfer" not in gateway["schema"]["enum"]  # offline: no webhook endpoint


def test_the_payment_routes_are_documented_with_their_bodies_answers_and_security(
        document: dict[str, Any]) -> None:
    intents = operation(document, INTENTS)
    captures = operation(document, CAPTURES)
    for documented in (intents, captures):
        assert documented["security"] == [{"BearerAuth": []}]
        assert {"401", "403", "404", "409", "415", "422", "502"} <= set(documented["responses"])
        number = next(p for p in documented["parameters"] if p["name"] == "number")
        assert number["schema"] == {"type": "string", "pattern": "^[0-9]{10}$"}
    assert "place_orders" in intents["description"]
    assert not intents["requestBody"].get("required")  # an empty body pays the oldest invoice
    assert schema_of(document, intents["requestBody"]["content"])["properties"]["invoice_id"][
        "type"] == "integer"
    started = schema_of(document, intents["responses"]["201"]["content"])
    assert {"gateway", "number", "invoice_id", "amount", "currency",
            "idempotency_key"} <= set(started["required"])
    assert "client_secret" in started["description"]  # the gateway's own fields come along
    assert captures["requestBody"]["required"] is True
    assert "paypal_order_id" in schema_of(document, captures["requestBody"]["content"])[
        "properties"]
    captured = schema_of(document, captures["responses"]["200"]["content"])
    assert {"outcome", "reference", "payment_status"} <= set(captured["required"])


def test_no_api_route_is_missing_from_the_document(app: Any, document: dict[str, Any]) -> None:
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in NOT_OPERATIONS:
            continue
        path = re.sub(r"<([^<:]+:)?", "{", rule.rule).replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == []


def test_docs_api_md_describes_the_three_routes() -> None:
    text = DOC.read_text(encoding="utf-8")
    for path in (WEBHOOK, INTENTS, CAPTURES):
        assert f"POST {path.removeprefix('/api/v1')}" in text, path
    assert "place_orders" in text and "Stripe-Signature" in text


def test_documenting_them_changed_nothing_they_accept(
        client: Any, tokens: dict[str, str], error_of: Callable[..., Any],
        make_product: Callable[..., Any], order_factory: Callable[..., Order]) -> None:
    """No body, or any JSON, still reaches payment-intents (a bank transfer order takes no
    online payment: 409 from the core, not a 422 from the document's schema); a webhook in
    text/plain still reaches its gateway's signature check (400, never 415); the document's
    bodies are not enforced on the way in."""
    make_product("TSHIRT", price=1250, stock=5)
    order = order_factory([("TSHIRT", 1)])
    auth = {"Authorization": f"Bearer {tokens['support']}"}
    url = f"/api/v1/orders/{order.number}/payment-intents"
    for kwargs in ({}, {"json": {}}, {"json": [1, 2]}, {"json": {"invoice_id": None,
                                                               "extra": "kept"}}):
        error_of(client.post(url, headers=auth, **kwargs), 409, "action_not_allowed")
    error_of(client.post(url, headers=auth, json={"invoice_id": "1"}), 422, "invalid_input")
    error_of(client.post(url), 401, "unauthenticated")
    captures = f"/api/v1/orders/{order.number}/payment-captures"
    error_of(client.post(captures, headers=auth, json={"anything": 1}), 409,
             "action_not_allowed")
    error_of(client.post(captures, headers=auth, json=["not", "an", "object"]), 422,
             "invalid_input")
    for body, content_type in ((b"event=1", "text/plain"), (b"{}", "application/json"),
                               (b"", None)):
        response = client.post("/api/v1/webhooks/stripe", data=body, content_type=content_type)
        error_of(response, 400, "webhook_rejected")
    error_of(client.post("/api/v1/webhooks/banktransfer", data=b"{}",
                         content_type="application/json"), 404, "unknown_gateway")
