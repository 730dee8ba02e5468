"""The app itself: the OpenAPI document, one JSON error shape for every failure, headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.web import create_app


def test_openapi_document_is_generated_from_the_schemas(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "ordermill API"
    paths = spec["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/refund",
                 "/api/v1/orders/bulk-status", "/api/v1/orders/export.csv", "/api/v1/statuses",
                 "/api/v1/products", "/api/v1/plugins", "/api/v1/payments",
                 "/api/v1/auth/login"):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    refund = paths["/api/v1/orders/{number}/refund"]["post"]
    assert refund["security"] == [{"BearerAuth": []}]
    assert {"200", "401", "403", "404", "409", "422"} <= set(refund["responses"])
    assert any(p["name"] == "dry_run" for p in refund["parameters"])
    money = spec["components"]["schemas"]["RefundIn"]["properties"]["amount"]
    assert money["type"] == "string" and "pattern" in money
    error = spec["components"]["schemas"]["ErrorSchema"]
    assert error["required"] == ["error"]
    place = paths["/api/v1/orders"]["post"]
    assert place["requestBody"]["required"] is True
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header"
               for p in place["parameters"])
    assert {"BearerAuth": []} in place["security"] and {} in place["security"]


def test_docs_page_is_served(client: Any) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "cdn.jsdelivr.net" not in response.headers["Content-Security-Policy"]  # offline


def test_health_check(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/nothing-here", "/healthz",
                                  "/api/v1/openapi.json"])
def test_security_headers_on_every_response(client: Any, path: str) -> None:
    response = client.get(path)
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_unknown_endpoint_is_json_404(api: Any, error_of: Callable[..., Any]) -> None:
    error = error_of(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert "openapi.json" in error["message"]


def test_wrong_method_is_json_405(api: Any, error_of: Callable[..., Any]) -> None:
    response = api.request("PUT", "/api/v1/orders")
    error = error_of(response, 405, "method_not_allowed")
    assert "GET" in error["details"]["allowed"] and "POST" in error["details"]["allowed"]
    assert "GET" in response.headers["Allow"]


def test_unreadable_json_is_json_400(api: Any, error_of: Callable[..., Any],
                                     unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    response = api.post("orders", data="{not json", content_type="application/json")
    error_of(response, 400, "bad_request")
    same()


def test_too_large_body_is_json_413(mill: Ordermill, tokens: dict[str, str],
                                    error_of: Callable[..., Any]) -> None:
    app = create_app(mill, {"MAX_CONTENT_LENGTH": 100})
    response = app.test_client().post(
        "/api/v1/orders", data="x" * 500, content_type="application/json",
        headers={"Authorization": f"Bearer {tokens['admin']}"})
    error_of(response, 413, "request_too_large")


def test_unexpected_exception_is_json_500_without_traceback(
        mill: Ordermill, error_of: Callable[..., Any]) -> None:
    app = create_app(mill)

    def boom() -> Any:
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/_boom", view_func=boom)
    response = app.test_client().get("/api/v1/_boom")
    error = error_of(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "nothing was changed" in error["message"]


def test_non_api_pages_keep_html_errors(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("body", [
    {"customer": {"email": "a@b.example", "name": "Nul\x00Byte"}, "lines": [{"sku": "X"}],
     "payment_method": "banktransfer"},
    {"customer": {"email": "a@b.example", "name": "Lone \ud800 surrogate"},
     "lines": [{"sku": "X"}], "payment_method": "banktransfer"},
])
def test_unstorable_text_is_refused(api: Any, body: dict[str, Any],
                                    error_of: Callable[..., Any],
                                    unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    error_of(api.post("orders", json=body), 422, "validation_error")
    error_of(api.get("orders?q=a%00b"), 422, "validation_error")
    same()


def test_unknown_and_repeated_query_parameters_are_refused(
        api: Any, error_of: Callable[..., Any]) -> None:
    """A typo such as ?dryrun=true must not quietly run the real action."""
    error = error_of(api.post("orders/1234567890/accept?dryrun=true", json={}), 422,
                     "validation_error")
    assert "dryrun" in error["details"]["fields"]
    error = error_of(api.get("orders?q=a&q=b"), 422, "validation_error")
    assert error["details"]["fields"] == {"q": ["Give this parameter once."]}


def test_hsts_only_over_https(client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://shop.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
