"""register_blueprints: a plugin's API routes join the app and its OpenAPI document behind
the API's guards; a blocked plugin's routes answer 404; clashes fail at start."""

from __future__ import annotations

from typing import Any

import pytest
from apiflask import APIBlueprint
from flask import Blueprint
from hookkit import FakeSite, install_shipping, login, site, web_app  # noqa: F401

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginConflict, PluginError
from ordermill.web import create_app


def bearer(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_hook_register_blueprints_routes_work_behind_permissions_and_guards(
    mill: Ordermill, site: FakeSite, tokens: dict[str, str],  # noqa: F811
) -> None:
    install_shipping(site)
    client = web_app(mill).test_client()

    answer = client.get("/api/v1/shipping/carriers", headers=bearer(tokens, "support"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"carriers": ["dhl", "post"]}  # dhl: the second plugin's hook

    refused = client.get("/api/v1/shipping/carriers", headers=bearer(tokens, "viewer"))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "permission_denied"
    assert client.get("/api/v1/shipping/carriers").status_code == 401

    label = client.post("/api/v1/shipping/labels", headers=bearer(tokens, "support"),
                        json={"order_number": "1234567890", "weight_grams": 500})
    assert label.status_code == 201, label.get_json()
    assert label.get_json() == {"order_number": "1234567890", "price": 399,
                                "carriers": ["dhl", "post"]}
    # the API's guards run for the plugin's routes too: a write needs a caller, JSON only
    anonymous = client.post("/api/v1/shipping/labels",
                            json={"order_number": "1234567890", "weight_grams": 500})
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["code"] == "unauthenticated"
    form = client.post("/api/v1/shipping/labels", headers=bearer(tokens, "support"),
                       data={"order_number": "1234567890", "weight_grams": "500"})
    assert form.status_code == 415
    invalid = client.post("/api/v1/shipping/labels", headers=bearer(tokens, "support"),
                          json={"order_number": "1234567890"})
    assert invalid.status_code == 422
    assert "weight_grams" in invalid.get_json()["error"]["details"]["fields"]


def test_plugin_api_routes_and_schemas_join_the_openapi_document(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    spec = web_app(mill).test_client().get("/api/v1/openapi.json").get_json()

    assert {"/api/v1/shipping/carriers", "/api/v1/shipping/labels"} <= set(spec["paths"])
    body = spec["paths"]["/api/v1/shipping/labels"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/LabelIn")
    assert {"order_number", "weight_grams"} <= set(
        spec["components"]["schemas"]["LabelIn"]["properties"])
    assert not any(path.startswith("/admin/shipping") for path in spec["paths"])  # a page


def test_a_blocked_plugins_routes_answer_404_and_leave_the_document(
    mill: Ordermill, site: FakeSite, tokens: dict[str, str],  # noqa: F811
) -> None:
    shipping, _dhl = install_shipping(site)
    client = web_app(mill, block_plugins=(shipping,)).test_client()

    missing = client.get("/api/v1/shipping/carriers", headers=bearer(tokens, "admin"))
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/shipping/labels", headers=bearer(tokens, "admin"),
                       json={"order_number": "1", "weight_grams": 1}).status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert not any("shipping" in path for path in spec["paths"])
    assert "LabelIn" not in spec["components"]["schemas"]
    # the core API still works without it
    assert client.get("/api/v1/orders", headers=bearer(tokens, "admin")).status_code == 200


def blueprints_plugin(*blueprints: Blueprint) -> object:
    class Plugin:
        @hookimpl
        def register_blueprints(self) -> list[Blueprint]:
            return list(blueprints)

    return Plugin()


def test_a_route_the_core_has_is_a_conflict_naming_both(
    mill: Ordermill, register_plugin: Any,
) -> None:
    shadow = APIBlueprint("shadow", __name__, url_prefix="/api/v1")

    @shadow.get("/orders")
    def orders() -> dict[str, Any]:
        return {}

    register_plugin(blueprints_plugin(shadow), name="shadow-plugin")
    with pytest.raises(PluginConflict,
                       match=r"route GET /api/v1/orders.*ordermill \(core\) and shadow-plugin"):
        create_app(mill)


def test_two_plugins_with_one_blueprint_name_conflict(
    mill: Ordermill, register_plugin: Any,
) -> None:
    register_plugin(blueprints_plugin(Blueprint("reports", __name__, url_prefix="/r1")),
                    name="reports-one")
    register_plugin(blueprints_plugin(Blueprint("reports", __name__, url_prefix="/r2")),
                    name="reports-two")
    with pytest.raises(PluginConflict, match=r"blueprint 'reports'.*reports-\w+ and reports-"):
        create_app(mill)
    with pytest.raises(PluginConflict, match=r"blueprint 'admin'.*ordermill \(core\)"):
        mill.plugins.unregister("reports-one")
        register_plugin(blueprints_plugin(Blueprint("admin", __name__)), name="admin-again")
        create_app(mill)


def test_an_api_blueprint_outside_api_or_a_non_blueprint_names_the_plugin(
    mill: Ordermill, register_plugin: Any,
) -> None:
    stray = APIBlueprint("stray", __name__, url_prefix="/stray")

    @stray.post("/run")
    def run() -> dict[str, Any]:
        return {}

    register_plugin(blueprints_plugin(stray), name="stray-plugin")
    with pytest.raises(PluginError, match=r"stray-plugin.*/stray/run is outside /api/"):
        create_app(mill)
    mill.plugins.unregister("stray-plugin")

    register_plugin(blueprints_plugin("not a blueprint"), name="sloppy")  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"sloppy.*not a Flask Blueprint"):
        create_app(mill)


def test_a_plugin_admin_page_needs_the_permission(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    app = web_app(mill)
    assert app.test_client().get("/admin/shipping").status_code == 401
    assert login(app.test_client(), mill, "viewer").get("/admin/shipping").status_code == 403
    page = login(app.test_client(), mill, "support").get("/admin/shipping")
    assert page.status_code == 200 and "Shipping desk" in page.get_data(as_text=True)
