"""register_permissions: plugin permissions join the core's for the app that loaded them:
require(), permissions_of(), the API's /auth/me, the admin's staff page; conflicts name both
distributions."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable

import pytest
from hookkit import FakeSite, install_shipping, login, plugin_app, site, web_app  # noqa: F401

from ordermill import hookimpl
from ordermill.core import permissions
from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError, PermissionDenied, PluginConflict, PluginError
from ordermill.core.permissions import PERMISSIONS, ROLES, permissions_of, require
from ordermill.core.specs import Actor, PermissionSpec

Register = Callable[..., object]


class Reports:
    def __init__(self, *specs: PermissionSpec) -> None:
        self.specs = specs

    @hookimpl
    def register_permissions(self) -> Iterable[PermissionSpec]:
        return self.specs


def actor(role: str) -> Actor:
    return Actor(kind="user", name=f"{role}@shop.test", role=role)


def test_hook_register_permissions_reaches_require_and_the_roles(
    mill: Ordermill, register_plugin: Register,
) -> None:
    with pytest.raises(PermissionDenied, match="no such permission"):
        require(actor("admin"), "reports.view")

    register_plugin(Reports(PermissionSpec("reports.view", "See sales reports",
                                           roles=("manager", "viewer"))), name="reports")

    assert mill.permissions.labels["reports.view"] == "See sales reports"
    # the test plugin's, beside the built-in subscriptions plugin's manage_recurring
    assert {name: owner for name, owner in mill.permissions.owners.items()
            if name != "manage_recurring"} == {"reports.view": "reports"}
    for role in ("admin", "manager", "viewer"):  # admin holds every permission
        require(actor(role), "reports.view")
        assert "reports.view" in permissions_of(role)
    with pytest.raises(PermissionDenied) as refused:
        require(actor("support"), "reports.view")
    assert refused.value.message == "support@shop.test (support) may not see sales reports."
    assert "reports.view" not in permissions_of("support")
    require(Actor.system(), "reports.view")
    # the core's own table is untouched
    assert "reports.view" not in PERMISSIONS and "reports.view" not in ROLES["admin"]


def test_a_permission_lives_only_as_long_as_an_app_that_loaded_it(mill: Ordermill) -> None:
    host_app = plugin_app(mill)
    host_app.plugins.register(Reports(PermissionSpec("audit.read", "Read the audit log")),
                              "audit")
    host_app.refresh()
    require(actor("admin"), "audit.read")

    del host_app
    gc.collect()
    with pytest.raises(PermissionDenied, match="no such permission"):
        require(actor("admin"), "audit.read")
    assert "audit.read" not in permissions.all_permissions()


def test_two_plugins_registering_one_permission_fail_at_start_naming_both_distributions(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    source = """
        from ordermill import hookimpl
        from ordermill.core.specs import PermissionSpec


        @hookimpl
        def register_permissions():
            return [PermissionSpec("reports.view", "See reports ({label})")]
    """
    first = site.install("reports-one", source.replace("{label}", "one"), version="1.2")
    second = site.install("reports-two", source.replace("{label}", "two"), version="2.0")

    with pytest.raises(PluginConflict) as conflict:
        plugin_app(mill)

    message = conflict.value.message
    assert "permission 'reports.view'" in message
    assert f"{first} ({site.dist('reports-one')} 1.2)" in message
    assert f"{second} ({site.dist('reports-two')} 2.0)" in message
    assert set(conflict.value.details["plugins"]) == {first, second}


def test_a_plugin_cannot_take_over_a_core_permission(
    mill: Ordermill, register_plugin: Register,
) -> None:
    with pytest.raises(PluginConflict, match=r"'refund'.*ordermill \(core\) and generous"):
        register_plugin(Reports(PermissionSpec("refund", "Refund", roles=("viewer",))),
                        name="generous")
    assert "refund" not in permissions_of("viewer")


def test_an_unknown_role_names_the_plugin(
    mill: Ordermill, register_plugin: Register,
) -> None:
    with pytest.raises(ConfigurationError, match=r"'careless'.*unknown role 'auditor'"):
        register_plugin(Reports(PermissionSpec("audit.read", "Read", roles=("auditor",))),
                        name="careless")


def test_a_register_permissions_returning_something_else_names_the_plugin(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Sloppy:
        @hookimpl
        def register_permissions(self) -> list[str]:
            return ["reports.view"]

    with pytest.raises(PluginError, match=r"sloppy.*not a permission spec"):
        register_plugin(Sloppy(), name="sloppy")
    with pytest.raises(ValueError, match="permission name"):
        PermissionSpec("Reports View", "x")


def test_plugin_permissions_show_in_auth_me_and_the_staff_page(
    mill: Ordermill, site: FakeSite, tokens: dict[str, str],  # noqa: F811
) -> None:
    install_shipping(site)
    app = web_app(mill)
    client = app.test_client()

    def me(role: str) -> list[str]:
        response = client.get("/api/v1/auth/me",
                              headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == 200, response.get_json()
        return list(response.get_json()["permissions"])

    assert "shipping.labels" in me("support") and "shipping.labels" in me("admin")
    assert "shipping.labels" not in me("viewer")

    login(client, mill, "admin")
    page = client.get("/admin/settings/staff").get_data(as_text=True)
    assert "Print parcel labels" in page
    assert f"(shipping ({site.dist('shipping')} 1.0))" in page


def test_a_blocked_plugins_permission_is_not_on_its_apps_staff_page(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    app = web_app(mill, block_plugins=("shipping",))
    assert "shipping.labels" not in app.extensions["ordermill"].permissions.labels
    client = login(app.test_client(), mill, "admin")
    assert "Print parcel labels" not in client.get("/admin/settings/staff").get_data(
        as_text=True)


def test_a_request_sees_only_its_own_apps_permissions(
    mill: Ordermill, site: FakeSite, tokens: dict[str, str],  # noqa: F811
) -> None:
    """Two apps alive in one process: the one that blocked the plugin never lists or grants
    its permission, though the other keeps it installed for require() outside requests."""
    install_shipping(site)
    with_plugin = web_app(mill)
    without = web_app(mill, block_plugins=("shipping",))
    require(actor("support"), "shipping.labels")  # outside a request: every live app's

    def me(app: object) -> list[str]:
        response = app.test_client().get(  # type: ignore[attr-defined]
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['support']}"})
        assert response.status_code == 200, response.get_json()
        return list(response.get_json()["permissions"])

    assert "shipping.labels" in me(with_plugin)
    assert "shipping.labels" not in me(without)
    assert "shipping.labels" in me(with_plugin)  # the request's table was put back
