"""Issue 10 item 2: no built-in secret key, keys of 32+ bytes, rotation with fallbacks.

Installs are built as an operator's would be, from the environment (Settings.from_env), on the
database of the `mill` fixture (SQLite and PostgreSQL). A session cookie or order link forged
with the old built-in key `dev-secret-change-me` must be refused over HTTP; old keys listed in
ORDERMILL_SECRET_KEY_FALLBACKS keep sessions, links and the vault working; `ordermill secrets
rotate` moves vault secrets (even ones stored under the old built-in key) onto the new key.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError
from ordermill.core.models import User
from ordermill.core.order_links import LINK_SALT, order_link_token
from ordermill.core.secret_keys import LEGACY_DEFAULT_KEY
from ordermill.core.settings import Settings
from ordermill.core.staff import session_version
from ordermill.plugins.provisioning import vault
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer
from ordermill.web import create_app

OLD_KEY = "old-key-of-the-shop-0123456789-abcdefghij"
NEW_KEY = "new-key-of-the-shop-9876543210-zyxwvutsrq"


def install(mill: Ordermill, tmp_path: Path, **env: str) -> Ordermill:
    """An Ordermill configured like a real install (environment only) on the test database."""
    settings = Settings.from_env(env=env, database_url=mill.settings.database_url,
                                 instance_path=tmp_path / "instance")
    return Ordermill(settings, plugins=mill.plugins, engine=mill.engine)


def web(app_mill: Ordermill) -> Any:
    return create_app(app_mill, {"TESTING": True}).test_client()


def forged_session(key: str, data: dict[str, Any]) -> str:
    """A Flask session cookie signed with `key`, made the way Flask itself makes them."""
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(data)


def staff_id(mill: Ordermill, email: str) -> int:
    with mill.read_session() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    assert user_id is not None
    return user_id


def login(client: Any, email: str, password: str) -> None:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.get_data(as_text=True)


# ---------------------------------------------------------------- where the key comes from


def test_an_install_never_runs_on_the_old_default_key(
        mill: Ordermill, tmp_path: Path, add_staff_user: Callable[..., str],
        make_product: Callable[..., Any], order_factory: Callable[..., Any]) -> None:
    """SQLite: a random instance key; PostgreSQL: refused until ORDERMILL_SECRET_KEY is set.
    Either way a session or order link forged with the old built-in key is refused."""
    email = add_staff_user("admin")
    make_product("TSHIRT", price=1000)
    number = order_factory().number
    shop = install(mill, tmp_path)
    if mill.is_sqlite:
        key_file = tmp_path / "instance" / "secret_key"
        assert shop.settings.secret_key == key_file.read_text().strip()
        assert len(shop.settings.secret_key) >= 32
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert install(mill, tmp_path).settings.secret_key == shop.settings.secret_key
    else:
        assert shop.settings.secret_key is None
        with pytest.raises(ConfigurationError, match="ORDERMILL_SECRET_KEY is not set"):
            create_app(shop)
        shop = install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY)
    assert shop.settings.secret_key != LEGACY_DEFAULT_KEY
    client = web(shop)
    user_id = staff_id(mill, email)
    session = {"ordermill_user_id": user_id, "ordermill_csrf": "x", "_user_id": str(user_id),
               "_fresh": True,
               "ordermill_session_version": session_version(shop, user_id)}

    client.set_cookie("session", forged_session(LEGACY_DEFAULT_KEY, session))
    assert client.get("/api/v1/auth/me").status_code == 401
    minted = client.post("/api/v1/auth/tokens", json={"name": "stolen"},
                         headers={"X-CSRF-Token": "x"})
    assert minted.status_code == 401
    admin = client.get("/admin/orders")
    assert admin.status_code == 302 and "/admin/login" in admin.headers["Location"]
    link = URLSafeTimedSerializer(LEGACY_DEFAULT_KEY, salt=LINK_SALT).dumps({"n": number})
    assert client.get(f"/my-order/{link}").status_code == 404

    # the forging itself is sound: signed with the install's real key it would pass
    assert shop.settings.secret_key is not None
    client.set_cookie("session", forged_session(shop.settings.secret_key, session))
    assert client.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize("env", [
    {"ORDERMILL_SECRET_KEY": "too-short-key"},
    {"ORDERMILL_SECRET_KEY": LEGACY_DEFAULT_KEY},
    {"ORDERMILL_SECRET_KEY": NEW_KEY, "ORDERMILL_SECRET_KEY_FALLBACKS": "short"},
])
def test_short_or_known_keys_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=r"32 bytes|old built-in key"):
        Settings.from_env(env=env, database_url=f"sqlite:///{tmp_path / 'x.sqlite'}",
                          instance_path=tmp_path)
    with pytest.raises(ConfigurationError):
        Settings(database_url="sqlite://", instance_path=tmp_path, secret_key="short")


def test_settings_never_show_their_keys(tmp_path: Path) -> None:
    settings = Settings.from_env(env={"ORDERMILL_SECRET_KEY": NEW_KEY,
                                      "ORDERMILL_SECRET_KEY_FALLBACKS": OLD_KEY},
                                 database_url="sqlite://", instance_path=tmp_path)
    assert settings.secret_keys == (NEW_KEY, OLD_KEY)
    assert NEW_KEY not in repr(settings) and OLD_KEY not in repr(settings)


# ------------------------------------------------------------- serve and worker at start-up


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)


def test_serve_and_worker_refuse_postgresql_without_a_key(tmp_path: Path, clean_env: None
                                                          ) -> None:
    env = {"ORDERMILL_DATABASE_URL": "postgresql+psycopg://shop@db.invalid:5432/shop",
           "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}
    for args in (["serve", "--port", "0"], ["worker", "--once"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1, result.output
        assert "ORDERMILL_SECRET_KEY is not set" in result.output
        assert "ordermill secrets new-key" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "instance" / "secret_key").exists()
    short = CliRunner().invoke(main, ["worker", "--once"],
                               env={**env, "ORDERMILL_SECRET_KEY": "short"})
    assert short.exit_code == 1 and "at least 32 bytes" in short.output


def test_worker_on_sqlite_makes_its_key_once(tmp_path: Path, clean_env: None) -> None:
    env = {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'instance' / 'shop.sqlite'}",
           "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    first = runner.invoke(main, ["worker", "--once"], env=env)
    assert first.exit_code == 0, first.output
    key_file = tmp_path / "instance" / "secret_key"
    key = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key.strip()) >= 32
    assert runner.invoke(main, ["worker", "--once"], env=env).exit_code == 0
    assert key_file.read_text() == key
    fresh = runner.invoke(main, ["secrets", "new-key"], env=env).output.strip()
    assert len(fresh) >= 32 and fresh != key.strip()


# --------------------------------------------------------------------------- rotation


def test_fallback_keys_keep_sessions_and_order_links_valid(
        mill: Ordermill, tmp_path: Path, add_staff_user: Callable[..., str],
        staff_password: str, make_product: Callable[..., Any],
        order_factory: Callable[..., Any]) -> None:
    email = add_staff_user("manager")
    make_product("TSHIRT", price=1000)
    number = order_factory().number
    before = install(mill, tmp_path, ORDERMILL_SECRET_KEY=OLD_KEY)
    browser = web(before)
    login(browser, email, staff_password)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    link = order_link_token(before, number)

    rotated = web(install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY,
                          ORDERMILL_SECRET_KEY_FALLBACKS=OLD_KEY))
    rotated.set_cookie("session", cookie.value)
    me = rotated.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.get_json()["email"] == email
    assert rotated.get(f"/my-order/{link}").status_code == 200

    dropped = web(install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY))
    dropped.set_cookie("session", cookie.value)
    assert dropped.get("/api/v1/auth/me").status_code == 401
    assert dropped.get(f"/my-order/{link}").status_code == 404


def _stored_secrets(mill: Ordermill, order: Any) -> tuple[int, int]:
    """A server whose credentials were saved under OLD_KEY and a service password saved
    under the old built-in key (an install that never set ORDERMILL_SECRET_KEY)."""
    with mill.write_session() as session, session.begin():
        server = ProvisioningServer(
            name="panel-1", module="webhook", hostname="https://panel.test/",
            credentials=vault.encrypt_json(OLD_KEY, {"secret": "server-secret"}))
        session.add(server)
        session.flush()
        service = ProvisionedService(
            order_id=order.id, order_number=order.number, line_id=order.lines[0].id,
            kind="service", module="webhook", server_id=server.id, username="bea0001",
            password=vault.encrypt(LEGACY_DEFAULT_KEY, "service-password"))
        session.add(service)
        session.flush()
        return server.id, service.id


def test_rotate_moves_vault_secrets_onto_the_new_key(
        mill: Ordermill, tmp_path: Path, tokens: dict[str, str],
        make_product: Callable[..., Any], order_factory: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    make_product("HOST", price=900, stock=None, kind="service")
    server_id, service_id = _stored_secrets(mill, order_factory([("HOST", 1)]))
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    path = f"/api/v1/provisioning/servers/{server_id}"

    with_fallback = install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY,
                            ORDERMILL_SECRET_KEY_FALLBACKS=OLD_KEY)
    read = web(with_fallback).get(path, headers=admin)
    assert read.status_code == 200 and read.get_json()["credential_keys"] == ["secret"]
    assert "server-secret" not in read.get_data(as_text=True)

    caplog.set_level(logging.INFO, logger="ordermill.secret_keys")
    worker = CliRunner().invoke(main, ["worker", "--once"], obj={"mill": with_fallback})
    assert worker.exit_code == 0, worker.output
    assert "1 stored secret(s) are under the old built-in key" in caplog.text
    assert "ordermill secrets rotate" in caplog.text
    caplog.clear()

    result = CliRunner().invoke(main, ["secrets", "rotate"], obj={"mill": with_fallback})
    assert result.exit_code == 0, result.output
    assert "2 secret(s) re-encrypted" in result.output
    assert "1 of the re-encrypted were under the old built-in key" in result.output
    for secret in (NEW_KEY, OLD_KEY, "server-secret", "service-password"):
        assert secret not in result.output

    only_new = install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY)
    read = web(only_new).get(path, headers=admin)
    assert read.status_code == 200 and read.get_json()["credential_keys"] == ["secret"]
    with mill.read_session() as session:
        server = session.get(ProvisioningServer, server_id)
        service = session.get(ProvisionedService, service_id)
        assert server is not None and service is not None and service.password is not None
        assert vault.decrypt_json(NEW_KEY, server.credentials) == {"secret": "server-secret"}
        assert vault.decrypt(NEW_KEY, service.password) == "service-password"
        with pytest.raises(ConfigurationError):
            vault.decrypt(OLD_KEY, service.password)

    again = CliRunner().invoke(main, ["secrets", "rotate"], obj={"mill": only_new})
    assert again.exit_code == 0 and "0 secret(s) re-encrypted" in again.output
    assert "2 already under it" in again.output
    assert CliRunner().invoke(main, ["worker", "--once"], obj={"mill": only_new}).exit_code == 0
    assert "stored secret(s)" not in caplog.text


def test_rotate_names_what_no_key_opens(
        mill: Ordermill, tmp_path: Path, make_product: Callable[..., Any],
        order_factory: Callable[..., Any]) -> None:
    make_product("HOST", price=900, stock=None, kind="service")
    _stored_secrets(mill, order_factory([("HOST", 1)]))
    without_fallback = install(mill, tmp_path, ORDERMILL_SECRET_KEY=NEW_KEY)
    result = CliRunner().invoke(main, ["secrets", "rotate"], obj={"mill": without_fallback})
    assert result.exit_code == 1
    assert "unreadable: server credentials of server 'panel-1'" in result.output
    assert "ORDERMILL_SECRET_KEY_FALLBACKS" in result.output
    keys_file = tmp_path / "old-keys"
    keys_file.write_text(f"# keys we used before\n{OLD_KEY}\n")
    result = CliRunner().invoke(main, ["secrets", "rotate", "--old-keys-file", str(keys_file)],
                                obj={"mill": without_fallback})
    assert result.exit_code == 0, result.output
    assert "1 already under it" in result.output  # the service password, done the first time
