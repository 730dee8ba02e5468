"""Fixtures for provisioning and e-tickets: a test panel behind a local HTTP server, settings
pointing the plugin at it, the web app with `services_bp`, and tokens per role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from panelfake import MODULE_SECRET, REGISTRAR_SECRET, SERVER_SECRET, Api, FakePanel
from pytest_httpserver import HTTPServer
from werkzeug.security import generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow
from ordermill.core.specs import Actor
from ordermill.core.staff import create_token
from ordermill.plugins.provisioning import servers
from ordermill.web import create_app
from ordermill.web.services import services_bp

ROLES = ("admin", "manager", "support", "viewer")


@pytest.fixture
def panel(httpserver: HTTPServer) -> FakePanel:
    fake = FakePanel()
    httpserver.expect_request("/panel", method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def registrar(httpserver: HTTPServer) -> FakePanel:
    fake = FakePanel(REGISTRAR_SECRET)
    httpserver.expect_request("/registrar", method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer) -> dict[str, Any]:
    return {"plugins": {"provisioning": {
        "max_attempts": 2,
        "modules": {"webhook": {"secret": MODULE_SECRET, "timeout": 5}},
        "registrars": {"webhook": {"url": httpserver.url_for("/registrar"),
                                   "secret": REGISTRAR_SECRET}},
        "default_registrar": "webhook",
    }}}


@pytest.fixture
def add_server(mill: Ordermill, staff: Actor, httpserver: HTTPServer
               ) -> Callable[..., dict[str, Any]]:
    def add(name: str = "panel-1", *, capacity: int | None = None, active: bool = True,
            secret: str = SERVER_SECRET) -> dict[str, Any]:
        return servers.create_server(mill, {
            "name": name, "module": "webhook", "hostname": httpserver.url_for("/panel"),
            "credentials": {"secret": secret}, "capacity": capacity, "active": active,
        }, actor=staff)

    return add


@pytest.fixture
def app(mill: Ordermill) -> Flask:
    made = create_app(mill, {"TESTING": True})
    if services_bp.name not in made.blueprints:
        made.register_blueprint(services_bp)
    return made


@pytest.fixture
def tokens(mill: Ordermill) -> dict[str, str]:
    with mill.write_session() as session, session.begin():
        for role in ROLES:
            session.add(User(email=f"{role}@shop.test", name=role.title(), role=role,
                             password_hash=generate_password_hash("x" * 12, method="pbkdf2"),
                             active=True, created_at=utcnow()))
    return {role: create_token(mill, email=f"{role}@shop.test", name=role) for role in ROLES}


@pytest.fixture
def api(app: Flask, tokens: dict[str, str]) -> Api:
    return Api(app, tokens)
