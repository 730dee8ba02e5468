"""Blocking built-in plugins in pairs and all at once, and a blocked table owner at upgrade
(split from test_block_each_plugin.py, whose helpers these tests share)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import pytest
from hookkit import login
from test_block_each_plugin import (  # the shared drivers, not tests
    HELD_CLOSED,
    HELD_OPEN,
    Desk,
    cli_commands,
    drive,
    make_app,
    minus,
    payment_method,
    stock,
)

from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError
from ordermill.core.models import Product
from ordermill.core.plugins import ENTRY_POINT_GROUP
from ordermill.core.schema import current_revisions, upgrade_database
from ordermill.core.specs import Actor
from ordermill.testing import TEST_SECRET_KEY
from ordermill.web import create_app

Json = dict[str, Any]


def builtin_plugins() -> list[str]:
    """The entry points of the `ordermill` group that the ordermill distribution ships."""
    dist = importlib.metadata.distribution("ordermill")
    return sorted({ep.name for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP})


BUILTINS = builtin_plugins()
# What the issue names as hard-wired in the host before it moved onto the hooks: these
# must go with the plugin even though no hook of the plugin's says they are its own.
LEGACY_PATHS = {
    "provisioning": ("/api/v1/provisioning/servers", "/api/v1/provisioning/modules",
                     "/api/v1/orders/{number}/services", "/api/v1/orders/{number}/tickets",
                     "/api/v1/tickets/{code}/check-in"),
}
APP_CONFIG = {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute",
              "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute",
              "ORDERMILL_CHECKOUT_RATE_LIMIT": "1000 per minute"}
ADMIN = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)
OFFLINE_FIRST = ("banktransfer",)  # the test's favourite, when it is there
# Hooks the order lives of `drive` call whatever the order: every action writes an event
# (jobs_for_event), placing needs the gateways and asks the fraud checks, restock runs on
# cancel and refund, and each action has its after-commit hook.
FLOW_HOOKS = frozenset({
    "register_payment_gateways", "validate_order", "fraud_check", "jobs_for_event",
    "restock", "generate_order_number", "on_order_placed", "on_payment", "on_accept",
    "on_cancel", "on_refund", "on_status_changed"})


def test_blocking_sales_managers_or_reports_leaves_the_other_whole(
    mill: Ordermill, shop: None, tokens: dict[str, str],
) -> None:
    """Issue 17, acceptance 3: the two plugins meet only through the reports plugin's hook
    `confirmed_sales_condition`. Without sales_managers, reports offers no report by sales
    manager (404, no tab) and nobody can confirm; without reports, sales are still confirmed
    and filtered, and no report route, tab or permission is left."""
    no_sales = create_app(make_app(mill, ("sales_managers",)), dict(APP_CONFIG))
    desk = Desk(no_sales, tokens["admin"])
    number = desk.place([("MUG", 1)], "banktransfer")
    offered = [report["name"] for report in desk.get("/reports")["reports"]]
    assert offered == ["payments", "products", "categories"]
    assert desk.client.get("/api/v1/reports/managers", headers=desk.auth).status_code == 404
    assert desk.client.post(f"/api/v1/orders/{number}/sale/confirm", headers=desk.auth,
                            json={}).status_code == 404
    assert "confirm_sales" not in desk.get("/auth/me")["permissions"]
    admin = login(no_sales.test_client(), mill, "admin")
    page = admin.get("/admin/reports/").get_data(as_text=True)
    assert 'data-report="payments"' in page and 'data-report="managers"' not in page
    assert admin.get("/admin/reports/?report=managers").status_code == 404

    no_reports = create_app(make_app(mill, ("reports",)), dict(APP_CONFIG))
    desk = Desk(no_reports, tokens["admin"])
    assert desk.client.get("/api/v1/reports", headers=desk.auth).status_code == 404
    assert "view_reports" not in desk.get("/auth/me")["permissions"]
    assert desk.get("/orders?sales=unconfirmed")["orders"][0]["number"] == number
    confirmed = desk.post(f"/orders/{number}/sale/confirm", {})
    assert confirmed["confirmed"] is True and confirmed["sales_manager"] == "system"
    assert desk.get("/orders?sales=unconfirmed")["orders"] == []
    admin = login(no_reports.test_client(), mill, "admin")
    assert admin.get("/admin/reports/").status_code == 404
    assert "/admin/reports/" not in admin.get("/admin/orders").get_data(as_text=True)


@pytest.mark.commits  # the upgrade opens its own connection
def test_upgrading_the_schema_with_a_blocked_table_owner_says_what_to_do(
    mill: Ordermill,
) -> None:
    """A database holding the migration branch of a blocked plugin: `ordermill init` (and
    `serve --demo`, `demo`) refuse in one sentence instead of Alembic's traceback."""
    owners = [name for name in mill.plugins.implementers("register_migration_locations")
              if name in BUILTINS]
    assert "provisioning" in owners
    upgrade_database(mill)  # every branch in place, as on a shop that ran `ordermill init`
    before = current_revisions(mill)
    for plugin in owners:
        blocked = make_app(mill, (plugin,))
        with pytest.raises(ConfigurationError,
                           match=r"which no loaded plugin provides: a plugin that owns tables "
                                 r"is blocked") as refused:
            upgrade_database(blocked)
        assert refused.value.details["unknown_revisions"]
        assert set(refused.value.details["unknown_revisions"]) <= set(before)
    assert current_revisions(mill) == before
    upgrade_database(mill)  # loaded again: nothing to refuse


def test_with_every_builtin_plugin_blocked_the_core_still_works(
    mill: Ordermill, shop: None, tokens: dict[str, str],
) -> None:
    """The core alone: no gateway, no restock, no e-mail, no provisioning."""
    app = make_app(mill, tuple(BUILTINS))
    assert not {info.name for info in app.plugins.plugin_infos()} & set(BUILTINS)
    assert app.gateways == {} and app.job_handlers == {}
    web = create_app(app, dict(APP_CONFIG))
    start = stock(mill)
    numbers = drive(Desk(web, tokens["admin"]), payment_method(app))
    assert stock(mill) == minus(start, HELD_OPEN, HELD_CLOSED)  # nothing restocked
    admin = login(web.test_client(), app, "admin")
    for number in numbers.values():
        assert admin.get(f"/admin/orders/{number}").status_code == 200
    assert admin.get("/admin/settings/shop").status_code == 200


def test_blocking_subscriptions_leaves_recurring_orders_plain_orders(
        mill: Ordermill, tokens: dict[str, str], clean_env: None, tmp_path: Path) -> None:
    """Issue 16, acceptance 3: with `subscriptions` blocked, an order with a monthly line is
    placed and paid like any other, no subscription starts, and the "Recurring orders" tab,
    its routes, its commands and `manage_recurring` are gone; provisioning, which implements
    the subscriptions plugin's hook, still starts. Loaded, the same order starts one."""
    with mill.write_session() as session, session.begin():
        session.add(Product(sku="HOSTING", name="Hosting", price=1500, currency="EUR",
                            stock=None, kind="service", billing_cycle="monthly"))
    outcomes = {}
    for blocked in ((), ("subscriptions",)):
        app = make_app(mill, blocked)
        web = create_app(app, dict(APP_CONFIG))
        desk = Desk(web, tokens["admin"])
        number = desk.place([("HOSTING", 1)], "banktransfer")
        paid = desk.post(f"/orders/{number}/mark-paid", {})
        assert paid["order"]["payment_status"] == "paid"
        admin = login(web.test_client(), app, "admin")
        nav = admin.get("/admin/orders").get_data(as_text=True)
        listing = web.test_client().get(
            "/api/v1/subscriptions", headers={"Authorization": f"Bearer {tokens['admin']}"})
        outcomes[blocked] = (
            "Recurring orders" in nav, admin.get("/admin/subscriptions").status_code,
            listing.status_code, "manage_recurring" in app.permissions.labels,
            "provisioning" in {info.name for info in app.plugins.plugin_infos()},
            len(listing.get_json().get("subscriptions", [])) if listing.status_code == 200
            else None)
    assert outcomes[()] == (True, 200, 200, True, True, 1)
    assert outcomes[("subscriptions",)] == (False, 404, 404, False, True, None)
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path / "cli"),
           "ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
           "ORDERMILL_SECRET_KEY": TEST_SECRET_KEY}
    assert "subscriptions" in cli_commands(env)[0]
    assert "subscriptions" not in cli_commands(
        {**env, "ORDERMILL_BLOCK_PLUGINS": "subscriptions"})[0]
