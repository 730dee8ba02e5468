"""What plugins add to the admin: order panels from their own templates (escaped), buttons to
their own routes (shown by permission, with the CSRF token), and settings tabs (drawn from
their fields, validated, stored in one transaction, closed to roles without the permission).

The plugin is tests/admin/loyalty_kit, a package with its own templates folder and routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin, flashes
from loyalty_kit import Loyalty, loyalty_bp
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.admin_specs import OrderButton, SettingField, SettingsPage
from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError, PermissionDenied, PluginConflict
from ordermill.core.models import Order, OrderEvent, Setting
from ordermill.core.shop_settings import plugin_settings, save_plugin_settings
from ordermill.core.specs import Actor

Factory = Callable[..., Order]
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def app_blueprints() -> list[Any]:
    return [loyalty_bp]


@pytest.fixture
def loyalty(register_plugin: Callable[..., Any]) -> Loyalty:
    plugin = Loyalty()
    register_plugin(plugin, name="loyalty")
    return plugin


def stored(mill: Ordermill, key: str) -> dict[str, Any] | None:
    with mill.read_session() as session:
        row = session.get(Setting, key)
        return dict(row.value) if row is not None else None


def comments(mill: Ordermill, number: str) -> list[str]:
    with mill.read_session() as session:
        return [event.comment or "" for event in session.scalars(
            select(OrderEvent).where(OrderEvent.order_number == number,
                                     OrderEvent.type == "comment"))]


# ---------------------------------------------------------------------------- panels


def test_hook_admin_order_panels_renders_the_plugins_template_escaped(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Factory, loyalty: Loyalty) -> None:
    order = order_factory([("TSHIRT", 2)], name=f"Eve {SCRIPT}")
    page = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    panel = page[page.index('data-testid="plugin-panel"'):]
    assert "Loyalty points" in panel and 'data-plugin="loyalty"' in page
    assert "earns <strong>40</strong> points" in panel  # 2 x 20.00 EUR
    assert SCRIPT not in page  # the buyer's name, as text
    assert "Eve &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; earns" in panel
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in panel  # the plugin's context is escaped too
    assert "Shown to admin@shop.test" in panel
    assert f'action="/loyalty/grant?number={order.number}"' in panel  # url_for works
    assert re.search(r'name="csrf_token" value="[^"]+"', panel)  # so does csrf_token()
    assert loyalty.seen == [(order.number, "admin@shop.test")]

    viewer = staff_login("viewer").get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert 'data-testid="plugin-panel" data-plugin="loyalty"' not in viewer  # it chose not to


def test_a_panel_whose_template_fails_names_the_plugin(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        register_plugin: Callable[..., Any]) -> None:
    from ordermill.core.admin_specs import OrderPanel

    class Broken:
        @hookimpl
        def admin_order_panels(self) -> list[OrderPanel]:
            return [OrderPanel("Broken", "missing.html", package="loyalty_kit")]

    register_plugin(Broken(), name="broken")
    order = order_factory([("MUG", 1)])
    response = admin.get(f"/admin/orders/{order.number}")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "broken" in text and "missing.html" in text


# ---------------------------------------------------------------------------- buttons


def test_hook_admin_order_actions_shows_buttons_by_permission(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill, shop: None,
        order_factory: Factory, loyalty: Loyalty) -> None:
    order = order_factory([("MUG", 1)])
    number = order.number
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/loyalty/grant\?number=' + number +
                     r'" class="inline" data-confirm="Grant 100 points\?">(.*?)</form>',
                     page, re.S)
    assert form is not None, page
    assert 'name="csrf_token"' in form.group(1) and "Grant 100 points" in form.group(1)
    assert f'href="/admin/orders/{number}/receipt"' in page  # the GET button: a link

    granted = admin.post(f"/loyalty/grant?number={number}", {})
    assert granted.status_code == 303
    assert comments(mill, number) == ["Granted 100 points."]

    support = staff_login("support")
    seen = support.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert "Grant 100 points" not in seen  # support lacks manage_fraud
    assert f'href="/admin/orders/{number}/receipt"' in seen  # no permission asked
    refused = support.post(f"/loyalty/grant?number={number}", {})
    assert refused.status_code == 403  # and the route refuses it anyway
    assert comments(mill, number) == ["Granted 100 points."]
    without_token = admin.post(f"/loyalty/grant?number={number}", {}, csrf=False)
    assert without_token.status_code == 400
    assert comments(mill, number) == ["Granted 100 points."]


@pytest.mark.parametrize("endpoint", ["https://evil.example/steal", "//evil.example/x",
                                      "javascript:alert(1)", "no.such.endpoint"])
def test_a_button_to_another_site_is_refused(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        register_plugin: Callable[..., Any], endpoint: str) -> None:
    class Offsite:
        @hookimpl
        def admin_order_actions(self) -> list[OrderButton]:
            return [OrderButton("Go", endpoint)]

    register_plugin(Offsite(), name="offsite")
    order = order_factory([("MUG", 1)])
    response = admin.get(f"/admin/orders/{order.number}")
    assert response.status_code == 502
    assert "offsite" in response.get_data(as_text=True)
    assert f'action="{endpoint}' not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------- settings tabs


def test_hook_admin_settings_pages_draws_validates_and_stores(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill,
        loyalty: Loyalty, unchanged: Callable[[], Callable[[], None]]) -> None:
    nav = admin.get("/admin/settings/statuses").get_data(as_text=True)
    assert 'data-testid="settings-tab-loyalty"' in nav and ">Loyalty<" in nav
    page = admin.get("/admin/settings/plugins/loyalty").get_data(as_text=True)
    assert 'name="rate"' in page and 'placeholder="5"' in page  # the default, as placeholder
    assert '<option value="silver"' in page and 'type="checkbox" name="enabled"' in page
    assert '<textarea name="terms"' in page

    check = unchanged()
    bad = admin.post("/admin/settings/plugins/loyalty",
                     {"rate": "500", "tier": "gold", "code": "TOO-LONG-CODE"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Between 1 and 100 points per euro." in text
    assert "Starting tier: choose one of Bronze, Silver." in text
    assert "Tier code has at most 8 characters." in text
    assert 'value="500"' in text  # the form keeps what was typed
    check()
    assert stored(mill, "plugin:loyalty") is None
    missing = admin.post("/admin/settings/plugins/loyalty", {"rate": ""})
    assert missing.status_code == 422 and "Points per euro is required." in \
        missing.get_data(as_text=True)

    saved = admin.post("/admin/settings/plugins/loyalty", {
        "rate": "12", "enabled": "on", "tier": "silver", "code": "gold", "terms": " "})
    assert saved.status_code == 303
    assert "Loyalty saved." in flashes(admin.get(saved.location).get_data(as_text=True))
    expected = {"rate": 12, "enabled": True, "tier": "silver", "code": "GOLD"}
    assert stored(mill, "plugin:loyalty") == expected  # typed, normalised, blanks left out
    assert plugin_settings(mill, "loyalty") == expected
    again = admin.get("/admin/settings/plugins/loyalty").get_data(as_text=True)
    assert 'value="12"' in again and 'value="GOLD"' in again


def test_a_settings_tab_is_closed_to_roles_without_its_permission(
        staff_login: Callable[[str], Admin], mill: Ordermill, loyalty: Loyalty) -> None:
    support = staff_login("support")
    assert support.get("/admin/settings/plugins/loyalty").status_code == 403
    assert support.post("/admin/settings/plugins/loyalty", {"rate": "3"}).status_code == 403
    assert stored(mill, "plugin:loyalty") is None
    # a manager holds the page's permission (manage_fraud) though not manage_settings
    manager = staff_login("manager")
    page = manager.get("/admin/settings/plugins/loyalty")
    assert page.status_code == 200
    assert "settings-tab-loyalty" in page.get_data(as_text=True)
    assert "Order statuses" not in page.get_data(as_text=True)
    assert manager.post("/admin/settings/plugins/loyalty", {"rate": "3"}).status_code == 303
    assert plugin_settings(mill, "loyalty") == {"rate": 3, "enabled": False}
    with pytest.raises(PermissionDenied, match="s@x \\(support\\) may not"):
        save_plugin_settings(mill, "loyalty", {"rate": "4"},
                             actor=Actor(kind="user", name="s@x", role="support"))
    assert plugin_settings(mill, "loyalty") == {"rate": 3, "enabled": False}
    assert staff_login("admin").get("/admin/settings/plugins/nope").status_code == 404


def test_two_plugins_on_one_settings_page_fail_naming_both(
        mill: Ordermill, register_plugin: Callable[..., Any], loyalty: Loyalty) -> None:
    class Copycat:
        @hookimpl
        def admin_settings_pages(self) -> list[SettingsPage]:
            return [SettingsPage("loyalty", "Mine", [SettingField("x", "X")])]

    with pytest.raises(ConfigurationError, match="No plugin has a settings page 'nope'"):
        plugin_settings(mill, "nope")
    register_plugin(Copycat(), name="copycat")
    with pytest.raises(PluginConflict, match="settings page 'loyalty'") as conflict:
        plugin_settings(mill, "loyalty")
    assert sorted(conflict.value.details["plugins"]) == ["copycat", "loyalty"]
    assert "provided by copycat and loyalty" in conflict.value.message
