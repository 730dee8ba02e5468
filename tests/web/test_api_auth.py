"""Authentication: bearer tokens, login, the admin session with CSRF, rate limits, tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import ApiToken, OrderEvent, User
from ordermill.core.permissions import ROLES
from ordermill.core.staff import create_token, revoke_token
from ordermill.web import create_app
from ordermill.web.auth import CSRF_HEADER


def token_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(ApiToken)) or 0


@pytest.mark.parametrize("headers, message", [
    ({}, "Authentication required"),
    ({"Authorization": "Bearer om_not-a-real-token"}, "Invalid or revoked"),
    ({"Authorization": "Basic YWRtaW46cGFzcw=="}, "Bearer"),
    ({"Authorization": "Bearer "}, "Bearer"),
])
def test_missing_or_bad_credentials_are_401(client: Any, headers: dict[str, str], message: str,
                                            error_of: Callable[..., Any]) -> None:
    response = client.get("/api/v1/orders", headers=headers)
    error = error_of(response, 401, "unauthenticated")
    assert message in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(mill: Ordermill, api: Any, tokens: dict[str, str],
                              error_of: Callable[..., Any]) -> None:
    assert api.get("auth/me", role="support").status_code == 200
    me = api.get("auth/me", role="support").get_json()
    revoke_token(mill, me["token_id"])
    error_of(api.get("auth/me", role="support"), 401, "unauthenticated")


def test_me_shows_role_and_permissions(api: Any, mill: Ordermill) -> None:
    for role in ("admin", "manager", "support", "viewer"):
        me = api.get("auth/me", role=role).get_json()
        assert me["email"] == f"{role}@shop.test"
        assert me["role"] == role
        assert me["via"] == "token"
        # the core's role plus what this app's plugins give it (confirm_sales, view_reports);
        # this mill's table, not the process-wide merge of every live app's (another test's
        # app may have registered a plugin permission of its own)
        assert me["permissions"] == sorted(mill.permissions.of(role))
        assert set(ROLES[role]) <= set(me["permissions"])


def test_login_gives_a_working_token_and_a_session(mill: Ordermill, client: Any,
                                                   tokens: dict[str, str],
                                                   staff_password: str) -> None:
    response = client.post("/api/v1/auth/login",
                           json={"email": "Support@Shop.test", "password": staff_password,
                                 "token_name": "laptop"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["token"].startswith("om_")
    assert body["user"]["role"] == "support"
    # the token works on its own (no cookie) ...
    fresh = create_app(mill).test_client()
    me = fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["token_id"] == body["token_id"]
    # ... and the session cookie works for reading without a token
    assert client.get("/api/v1/auth/me").get_json()["via"] == "user"
    listed = client.get("/api/v1/auth/tokens").get_json()["tokens"]
    assert [t["name"] for t in listed] == ["support test token", "laptop"]
    assert all("token" not in t for t in listed)


def test_session_writes_need_the_csrf_token(mill: Ordermill, client: Any,
                                            make_product: Callable[..., Any],
                                            order_factory: Callable[..., Any],
                                            tokens: dict[str, str],
                                            error_of: Callable[..., Any],
                                            unchanged: Callable[..., Any],
                                            staff_password: str) -> None:
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    login = client.post("/api/v1/auth/login",
                        json={"email": "manager@shop.test", "password": staff_password}).get_json()
    same = unchanged()
    error_of(client.post(f"/api/v1/orders/{order.number}/accept", json={}), 403, "csrf_failed")
    error_of(client.post(f"/api/v1/orders/{order.number}/accept", json={},
                         headers={CSRF_HEADER: "wrong"}), 403, "csrf_failed")
    same()
    response = client.post(f"/api/v1/orders/{order.number}/accept", json={},
                           headers={CSRF_HEADER: login["csrf_token"]})
    assert response.status_code == 200
    assert response.get_json()["event"]["actor"] == "user:manager@shop.test"


def test_wrong_password_is_401_and_creates_nothing(mill: Ordermill, client: Any,
                                                   tokens: dict[str, str],
                                                   error_of: Callable[..., Any],
                                                   staff_password: str) -> None:
    before = token_count(mill)
    for email, password in (("admin@shop.test", "wrong password"),
                            ("nobody@shop.test", staff_password)):
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        error = error_of(response, 401, "invalid_credentials")
        assert error["message"] == "Wrong e-mail or password."
    assert token_count(mill) == before
    error_of(client.get("/api/v1/auth/me"), 401)


def test_login_validation(client: Any, error_of: Callable[..., Any]) -> None:
    error = error_of(client.post("/api/v1/auth/login", json={"email": "a@b.example"}), 422,
                     "validation_error")
    assert "password" in error["details"]["fields"]


def test_login_is_rate_limited(mill: Ordermill, tokens: dict[str, str],
                               error_of: Callable[..., Any], staff_password: str) -> None:
    app = create_app(mill, {"ORDERMILL_LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    for _ in range(3):
        client.post("/api/v1/auth/login", json={"email": "admin@shop.test", "password": "nope"})
    response = client.post("/api/v1/auth/login",
                           json={"email": "admin@shop.test", "password": staff_password})
    error_of(response, 429, "rate_limited")
    assert "Retry-After" in response.headers


def test_token_creation_is_rate_limited(mill: Ordermill, tokens: dict[str, str],
                                        error_of: Callable[..., Any]) -> None:
    app = create_app(mill, {"ORDERMILL_TOKEN_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['viewer']}"}
    for index in range(2):
        response = client.post("/api/v1/auth/tokens", json={"name": f"t{index}"},
                               headers=headers)
        assert response.status_code == 201
    before = token_count(mill)
    error_of(client.post("/api/v1/auth/tokens", json={"name": "t3"}, headers=headers), 429)
    assert token_count(mill) == before


def test_create_list_and_revoke_own_tokens(mill: Ordermill, api: Any,
                                           error_of: Callable[..., Any]) -> None:
    created = api.post("auth/tokens", role="viewer", json={"name": "report script"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["token"].startswith(body["prefix"]) and body["name"] == "report script"
    client = api.client
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).get_json()["role"] == "viewer"
    listed = api.delete(f"auth/tokens/{body['id']}", role="viewer").get_json()["tokens"]
    assert next(t for t in listed if t["id"] == body["id"])["revoked_at"] is not None
    error_of(client.get("/api/v1/auth/me", headers=headers), 401)


def test_revoking_someone_elses_token_needs_manage_staff(
        mill: Ordermill, api: Any, tokens: dict[str, str], error_of: Callable[..., Any],
        unchanged: Callable[..., Any]) -> None:
    support_token = api.get("auth/me", role="support").get_json()["token_id"]
    same = unchanged()
    for role in ("manager", "viewer"):
        error_of(api.delete(f"auth/tokens/{support_token}", role=role), 403,
                 "permission_denied")
    error_of(api.delete("auth/tokens/99999", role="viewer"), 404, "not_found")
    same()
    assert api.delete(f"auth/tokens/{support_token}", role="admin").status_code == 200
    error_of(api.get("auth/me", role="support"), 401)


def test_logout_revokes_the_token_and_ends_the_session(mill: Ordermill, client: Any,
                                                       tokens: dict[str, str],
                                                       error_of: Callable[..., Any],
                                                       staff_password: str) -> None:
    login = client.post("/api/v1/auth/login",
                        json={"email": "viewer@shop.test", "password": staff_password}).get_json()
    out = client.post("/api/v1/auth/logout", headers={CSRF_HEADER: login["csrf_token"]})
    assert out.get_json() == {"logged_out": True, "revoked_token_id": None}
    error_of(client.get("/api/v1/auth/me"), 401)
    headers = {"Authorization": f"Bearer {login['token']}"}
    out = client.post("/api/v1/auth/logout", headers=headers)
    assert out.get_json() == {"logged_out": True, "revoked_token_id": login["token_id"]}
    error_of(client.get("/api/v1/auth/me", headers=headers), 401)


def test_events_record_the_token_that_acted(mill: Ordermill, api: Any,
                                            make_product: Callable[..., Any],
                                            order_factory: Callable[..., Any]) -> None:
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    token_id = api.get("auth/me", role="support").get_json()["token_id"]
    response = api.post(f"orders/{order.number}/comments", role="support",
                        json={"text": "Called the buyer."})
    assert response.status_code == 200
    with mill.read_session() as session:
        event = session.scalar(select(OrderEvent).where(OrderEvent.type == "comment"))
    assert event is not None
    assert event.actor == f"token:{token_id}:support@shop.test"


def test_deactivated_user_token_stops_working(mill: Ordermill, api: Any,
                                              error_of: Callable[..., Any],
                                              add_staff_user: Callable[..., str]) -> None:
    email = add_staff_user("support", "temp@shop.test")
    token = create_token(mill, email=email, name="temp")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with mill.write_session() as session, session.begin():
        session.scalar(select(User).where(User.email == email)).active = False
    error_of(api.client.get("/api/v1/auth/me", headers=headers), 401)
