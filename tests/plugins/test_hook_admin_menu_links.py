"""admin_menu_links: plugin links in the admin's top navigation, only for staff holding their
permission; links off the site or naming no permission fail at start."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from hookkit import FakeSite, install_shipping, login, site, web_app  # noqa: F401

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.specs import Actor, AdminLink
from ordermill.web import create_app

NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)


# the built-in subscriptions plugin's tab, shown to every staff member (view_orders)



def nav_links(client: FlaskClient) -> dict[str, str]:
    """{label: href} of the plugin links in the top navigation of the orders page."""
    return {label: href for label, href in all_nav_links(client).items()
            if label.startswith("Shipping")}


def all_nav_links(client: FlaskClient) -> dict[str, str]:
    """Every plugin link of the top navigation, the built-in plugins' included."""
    page = client.get("/admin/orders")
    assert page.status_code == 200
    nav = NAV.search(page.get_data(as_text=True))
    assert nav
    return {label: href for href, label in re.findall(
        r'<a href="([^"]+)" data-testid="plugin-menu-link"[^>]*>([^<]+)</a>', nav.group(0))}


def test_hook_admin_menu_links_shows_links_to_staff_holding_the_permission(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    app = web_app(mill)

    support = login(app.test_client(), mill, "support")
    assert nav_links(support) == {"Shipping": "/admin/shipping",
                                  "Shipping help": "/admin/shipping?help=1"}
    assert support.get("/admin/shipping").status_code == 200

    viewer = login(app.test_client(), mill, "viewer")
    assert nav_links(viewer) == {"Shipping help": "/admin/shipping?help=1"}
    assert all_nav_links(viewer)["Recurring orders"] == "/admin/subscriptions"
    assert viewer.get("/admin/shipping").status_code == 403  # the page checks it as well


def test_hook_admin_menu_links_of_a_blocked_plugin_are_gone(
    mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    shipping, _dhl = install_shipping(site)
    app = web_app(mill, block_plugins=(shipping,))
    admin = login(app.test_client(), mill, "admin")
    assert nav_links(admin) == {}  # the blocked plugin's links are gone, the built-ins' stay
    assert all_nav_links(admin)["Servers"] == "/admin/provisioning/servers"
    assert admin.get("/admin/shipping").status_code == 404


def links_plugin(*links: Any) -> object:
    class Plugin:
        @hookimpl
        def admin_menu_links(self, actor: Actor) -> list[Any]:
            return list(links)

    return Plugin()


def test_a_link_to_another_site_is_refused(mill: Ordermill, register_plugin: Any) -> None:
    for href in ("https://evil.test/", "//evil.test/x", "/\\evil.test", "admin/x",
                 "/admin\n/x", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="must be a path on this site"):
            AdminLink("Evil", href)

    class Sneaky:  # a look-alike object, not built through AdminLink's checks
        label, href, permission = "Evil", "https://evil.test/", None

    register_plugin(links_plugin(Sneaky()), name="sneaky")
    with pytest.raises(PluginError, match=r"sneaky.*not an AdminLink"):
        create_app(mill)


def test_a_link_naming_an_unknown_permission_fails_at_start(
    mill: Ordermill, register_plugin: Any,
) -> None:
    register_plugin(links_plugin(AdminLink("Reports", "/admin/reports",
                                           permission="reports.veiw")), name="typo")
    with pytest.raises(PluginError, match=r"typo.*unknown permission 'reports.veiw'"):
        create_app(mill)


def test_a_link_label_is_escaped(mill: Ordermill, register_plugin: Any) -> None:
    register_plugin(links_plugin(AdminLink("<b>Bold</b>", "/admin/x?a=1&b=2")), name="bold")
    client = login(create_app(mill, {"TESTING": True}).test_client(), mill, "viewer")
    html = client.get("/admin/orders").get_data(as_text=True)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold</b>" not in html
    assert 'href="/admin/x?a=1&amp;b=2"' in html
