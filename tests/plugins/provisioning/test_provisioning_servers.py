"""The server registry and module list over the API, the plugin's Alembic branch, and the
permission matrix: viewers read nothing of the registry and act on nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from panelfake import Api
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import LineRequest
from ordermill.core.schema import (
    current_revisions,
    downgrade_database,
    schema_differences,
    unapplied_heads,
    upgrade_database,
)
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import BRANCH, ProvisioningServer
from ordermill.plugins.provisioning.vault import decrypt_json
from ordermill.testing import order_request, ordermill_settings

PLUGIN_TABLES = {"provisioning_server", "provisioning_service", "eticket"}


def test_server_registry_crud_with_permissions(mill: Ordermill, api: Api,
                                               httpserver: Any) -> None:
    body = {"name": "panel-1", "module": "webhook", "hostname": httpserver.url_for("/panel"),
            "credentials": {"secret": "top-secret"}, "capacity": 50}
    for role in ("viewer", "support", "manager"):
        assert api("POST", "provisioning/servers", role, json=body).status_code == 403
    created = api("POST", "provisioning/servers", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    server = created.get_json()
    assert server["credential_keys"] == ["secret"] and server["live_services"] == 0
    assert "top-secret" not in created.get_data(as_text=True)
    with mill.read_session() as session:
        stored = session.scalar(select(ProvisioningServer.credentials))
    assert stored and "top-secret" not in stored
    assert decrypt_json(mill.settings.secret_key, stored) == {"secret": "top-secret"}

    assert api("GET", "provisioning/servers", "viewer").status_code == 403
    listed = api("GET", "provisioning/servers", "support")
    assert [s["name"] for s in listed.get_json()["servers"]] == ["panel-1"]
    assert api("POST", "provisioning/servers", json=body).status_code == 409  # name taken
    wrong = api("POST", "provisioning/servers",
                json={**body, "name": "panel-2", "credentials": {"password": "x"}})
    assert wrong.status_code == 422 and "unknown setting" in wrong.get_json()["error"]["message"]
    unknown = api("POST", "provisioning/servers", json={**body, "name": "p3", "module": "cpanel"})
    assert unknown.status_code == 422

    path = f"provisioning/servers/{server['id']}"
    assert api("PATCH", path, "support", json={"capacity": 3}).status_code == 403
    patched = api("PATCH", path, json={"capacity": 3, "active": False})
    assert patched.status_code == 200
    assert (patched.get_json()["capacity"], patched.get_json()["active"]) == (3, False)
    assert api("GET", path, "support").get_json()["capacity"] == 3
    assert api("GET", "provisioning/servers/999", "support").status_code == 404
    assert api("DELETE", path, "manager").status_code == 403
    assert api("DELETE", path).get_json() == {"deleted": True, "id": server["id"]}
    assert api("GET", path).status_code == 404


def test_a_server_with_live_services_cannot_be_deleted(
        mill: Ordermill, staff: Actor, api: Api, make_product: Callable[..., Any],
        add_server: Callable[..., dict[str, Any]]) -> None:
    make_product("HOST", price=900, stock=None, kind="service", provisioning_module="webhook")
    server = add_server("panel-1")
    number = mill.orders.place(order_request([LineRequest(sku="HOST")]), actor=staff)
    mill.orders.accept(number.order.number, actor=staff)
    refused = api("DELETE", f"provisioning/servers/{server['id']}")
    assert refused.status_code == 409
    assert api("GET", f"provisioning/servers/{server['id']}").get_json()["live_services"] == 1


def test_modules_list_their_settings_schema(api: Api) -> None:
    assert api("GET", "provisioning/modules", "viewer").status_code == 403
    modules = {m["name"] + ":" + m["type"]: m
               for m in api("GET", "provisioning/modules", "support").get_json()["modules"]}
    assert set(modules) >= {"webhook:module", "etickets:module", "webhook:registrar"}
    webhook = modules["webhook:module"]
    assert webhook["commands"] == ["create", "suspend", "unsuspend", "terminate"]
    assert {(s["name"], s["scope"]) for s in webhook["settings"]} >= {
        ("url", "module"), ("secret", "module"), ("secret", "server")}
    assert modules["etickets:module"]["requires_payment"] is True


def test_the_openapi_document_lists_the_services_api(app: Any) -> None:
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/tickets/{code}/check-in" in paths
    assert "/api/v1/orders/{number}/lines/{line_id}/provision" in paths
    assert "application/pdf" in str(paths["/api/v1/orders/{number}/tickets.pdf"])


# ---------------------------------------------------------------------------- migrations


def test_the_plugin_branch_creates_and_drops_its_tables(tmp_path: Path) -> None:
    """On SQLite here; tests/test_migrations.py upgrades both databases with every installed
    plugin's branch, this one included."""
    settings = ordermill_settings(f"sqlite:///{tmp_path / 'branch.sqlite'}", tmp_path)
    fresh = Ordermill(settings, plugins=PluginHost(settings))
    try:
        upgrade_database(fresh)
        assert unapplied_heads(fresh) == ()
        assert "provisioning_0001" in current_revisions(fresh)
        with fresh.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) >= PLUGIN_TABLES
            assert schema_differences(connection) == []  # the branch builds the models
        downgrade_database(fresh, f"{BRANCH}@base")
        with fresh.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert not PLUGIN_TABLES & tables and "shop_order" in tables  # the core stays
        upgrade_database(fresh)
        assert unapplied_heads(fresh) == ()
    finally:
        fresh.dispose()
