"""Issue 10 item 5: logging out ends the session on the server, not only in this browser.

A session is a signed cookie: copying it (a shared machine, a stolen backup, another tab)
gives a second browser the same login. These tests capture the cookie before the event,
replay it from a fresh client afterwards, and expect 401 on the API. Each runs on SQLite and
PostgreSQL (the `mill` fixture), through HTTP with the Flask test client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.models import ApiToken, User

SESSION_COOKIE = "session"


def api_login(client: FlaskClient, email: str, password: str) -> str:
    """Log in through the API (token + session cookie); the session's CSRF token."""
    response = client.post("/api/v1/auth/login", json={
        "email": email, "password": password, "token_name": "browser"})
    assert response.status_code == 200, response.get_data(as_text=True)
    csrf = response.get_json()["csrf_token"]
    assert isinstance(csrf, str)
    return csrf


def copy_of(app: Any, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of `client`'s session cookie, as it is now."""
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, cookie.value)
    return other


def me(client: FlaskClient) -> int:
    return client.get("/api/v1/auth/me").status_code


def token_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(ApiToken)) or 0


def test_a_cookie_captured_before_logout_is_refused_after_it(
        app: Any, mill: Ordermill, add_staff_user: Callable[..., str], staff_password: str,
        error_of: Callable[..., dict[str, Any]]) -> None:
    email = add_staff_user("manager")
    browser = app.test_client()
    csrf = api_login(browser, email, staff_password)
    stolen = copy_of(app, browser)
    assert me(stolen) == 200  # the copy is as good as the original while the session lives

    done = browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.get_data(as_text=True)

    ended = error_of(stolen.get("/api/v1/auth/me"), 401, "unauthenticated")
    assert "session has ended" in ended["message"]
    tokens_before = token_count(mill)
    minted = stolen.post("/api/v1/auth/tokens", json={"name": "after logout"},
                         headers={"X-CSRF-Token": csrf})
    error_of(minted, 401, "unauthenticated")
    assert token_count(mill) == tokens_before
    assert stolen.get("/api/v1/orders").status_code == 401
    assert stolen.get("/admin/orders").status_code == 302  # the admin refuses it as well
    assert me(browser) == 401


def test_an_ended_cookie_cannot_log_out_a_newer_session(
        app: Any, add_staff_user: Callable[..., str], staff_password: str) -> None:
    """Replaying an old cookie at /auth/logout must not end the user's next login."""
    email = add_staff_user("support")
    browser = app.test_client()
    csrf = api_login(browser, email, staff_password)
    old = copy_of(app, browser)
    assert browser.post("/api/v1/auth/logout",
                        headers={"X-CSRF-Token": csrf}).status_code == 200
    fresh = app.test_client()
    api_login(fresh, email, staff_password)
    assert old.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 401
    assert me(fresh) == 200


def test_logging_in_again_after_logout_works(
        app: Any, add_staff_user: Callable[..., str], staff_password: str) -> None:
    email = add_staff_user("viewer")
    browser = app.test_client()
    csrf = api_login(browser, email, staff_password)
    assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code \
        == 200
    api_login(browser, email, staff_password)
    body = browser.get("/api/v1/auth/me").get_json()
    assert body["email"] == email and body["via"] == "user"


def test_logout_with_a_bearer_token_leaves_sessions_alone_and_revokes_the_token(
        app: Any, add_staff_user: Callable[..., str], staff_password: str) -> None:
    email = add_staff_user("manager")
    browser = app.test_client()
    api_login(browser, email, staff_password)
    script = app.test_client()
    token = script.post("/api/v1/auth/login", json={
        "email": email, "password": staff_password, "token_name": "script"}).get_json()["token"]
    script.delete_cookie(SESSION_COOKIE)
    out = script.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 200 and out.get_json()["revoked_token_id"] is not None
    assert script.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert me(browser) == 200


def test_a_cookie_from_before_session_versions_is_refused(
        app: Any, mill: Ordermill, add_staff_user: Callable[..., str]) -> None:
    """Sessions signed before the upgrade carry no version: they end, they do not pass."""
    email = add_staff_user("admin")
    with mill.read_session() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["ordermill_user_id"] = user_id
        cookie["ordermill_csrf"] = "x"
    assert me(client) == 401


def test_ordermill_user_password_ends_every_session(
        app: Any, mill: Ordermill, add_staff_user: Callable[..., str],
        staff_password: str) -> None:
    """`ordermill user password` sets a new password and logs the user out everywhere."""
    email = add_staff_user("manager")
    first, second = app.test_client(), app.test_client()
    api_login(first, email, staff_password)
    api_login(second, email, staff_password)
    assert me(first) == me(second) == 200

    runner = CliRunner()
    result = runner.invoke(main, ["user", "password", "--email", email.upper()],
                           input="a brand new secret\na brand new secret\n",
                           obj={"mill": mill})
    assert result.exit_code == 0, result.output
    assert "a brand new secret" not in result.output
    assert f"Password of {email} changed" in result.output

    assert me(first) == me(second) == 401
    refused = app.test_client().post("/api/v1/auth/login", json={
        "email": email, "password": staff_password, "token_name": "old"})
    assert refused.status_code == 401
    api_login(app.test_client(), email, "a brand new secret")


def test_ordermill_user_password_refuses_short_passwords_and_unknown_users(
        mill: Ordermill, add_staff_user: Callable[..., str]) -> None:
    email = add_staff_user("viewer")
    runner = CliRunner()
    short = runner.invoke(main, ["user", "password", "--email", email, "--password", "short"],
                          obj={"mill": mill})
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    unknown = runner.invoke(main, ["user", "password", "--email", "nobody@shop.test",
                                   "--password", "long enough pw"], obj={"mill": mill})
    assert unknown.exit_code == 1 and "No staff user nobody@shop.test" in unknown.output
    assert "Traceback" not in short.output + unknown.output
