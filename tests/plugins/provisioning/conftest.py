"""Fixtures for provisioning and e-tickets: a test panel behind a local HTTP server, settings
pointing the plugin at it, and tokens per role. The web app gets the plugin's routes from its
`register_blueprints` hook, as any app that loads the plugin does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from panelfake import MODULE_SECRET, REGISTRAR_SECRET, SERVER_SECRET, Api, FakePanel
from pytest_httpserver import HTTPServer

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import servers


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
def api(app: Flask, tokens: dict[str, str]) -> Api:
    return Api(app, tokens)
