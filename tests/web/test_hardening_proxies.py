"""Issue 10 item 15: behind a TLS proxy, Secure cookies, HSTS and the client's address.

ORDERMILL_PROXY_COUNT trusts the X-Forwarded-* headers of that many proxies (werkzeug's
ProxyFix), and only then: without it a client's own X-Forwarded-Proto changes nothing.
ORDERMILL_SECURE_COOKIES marks the session cookie Secure and makes URLs https. Through HTTP,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError
from ordermill.core.settings import Settings
from ordermill.web import create_app

HTTPS = {"X-Forwarded-Proto": "https"}


def app_with(mill: Ordermill, **settings: Any) -> Any:
    mill.settings = attrs.evolve(mill.settings, **settings)
    return create_app(mill, {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "2 per minute"})


def session_cookie(response: Any) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie")
               if value.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def test_forwarded_headers_are_ignored_without_a_proxy_count(mill: Ordermill) -> None:
    client = app_with(mill).test_client()
    spoofed = client.get("/healthz", headers=HTTPS)
    assert "Strict-Transport-Security" not in spoofed.headers
    direct_tls = client.get("/healthz", base_url="https://localhost")
    assert direct_tls.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_one_proxy_tls_and_client_address_are_believed(
        mill: Ordermill, add_staff_user: Callable[..., str]) -> None:
    email = add_staff_user("admin")
    client = app_with(mill, proxy_count=1).test_client()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", headers=HTTPS)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    # the login rate limit counts per client, as the proxy reports it
    wrong = {"email": email, "password": "wrong password"}
    first = {"X-Forwarded-For": "203.0.113.7", **HTTPS}
    other = {"X-Forwarded-For": "198.51.100.9", **HTTPS}
    codes = [client.post("/api/v1/auth/login", json=wrong, headers=first).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    assert client.post("/api/v1/auth/login", json=wrong, headers=other).status_code == 401


def test_without_a_proxy_count_every_client_shares_the_proxy_address(
        mill: Ordermill, add_staff_user: Callable[..., str]) -> None:
    email = add_staff_user("admin")
    client = app_with(mill).test_client()
    wrong = {"email": email, "password": "wrong password"}
    for address, expected in (("203.0.113.7", 401), ("203.0.113.7", 401),
                              ("198.51.100.9", 429)):
        answer = client.post("/api/v1/auth/login", json=wrong,
                             headers={"X-Forwarded-For": address})
        assert answer.status_code == expected


def test_secure_cookies_setting_marks_the_session_cookie_secure(
        mill: Ordermill, add_staff_user: Callable[..., str], staff_password: str) -> None:
    email = add_staff_user("admin")
    login = {"email": email, "password": staff_password}
    plain = app_with(mill).test_client().post("/api/v1/auth/login", json=login)
    assert plain.status_code == 200 and "Secure" not in session_cookie(plain)

    app = app_with(mill, secure_cookies=True, proxy_count=1)
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    answer = app.test_client().post("/api/v1/auth/login", json=login, headers=HTTPS)
    assert answer.status_code == 200
    cookie = session_cookie(answer)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_proxy_settings_come_from_the_environment(tmp_path: Path) -> None:
    def settings(**env: str) -> Settings:
        return Settings.from_env(env=env, database_url="sqlite://", instance_path=tmp_path)

    assert (settings().proxy_count, settings().secure_cookies) == (0, False)
    configured = settings(ORDERMILL_PROXY_COUNT="2", ORDERMILL_SECURE_COOKIES="true")
    assert (configured.proxy_count, configured.secure_cookies) == (2, True)
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(ConfigurationError, match="ORDERMILL_PROXY_COUNT"):
            settings(ORDERMILL_PROXY_COUNT=bad)
