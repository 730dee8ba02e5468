"""Every built-in plugin can be blocked (issue 12, acceptance 2).

Parametrized over every `ordermill` entry point that ordermill's own distribution ships (read
from the installed distribution, so a new built-in is covered without touching this file), on
both databases. Each test builds two apps on the same database, one with every plugin and one
with `ORDERMILL_BLOCK_PLUGINS=<plugin>`, and:

* drives the same order lives through the JSON API of each (place, pay, accept, refund; place,
  cancel; place, part-pay, cancel and refund) with a staff token: every call succeeds and no
  plugin hook fails;
* spies on the plugin's hook implementations: called with the plugin loaded, never when
  blocked;
* takes what the plugin registers when loaded (hooks, gateways, statuses, job kinds,
  permissions, hookspecs, API routes, admin links, panels, buttons and settings tabs, CLI
  commands, order fields and list filters) and checks that each is gone when blocked: routes
  404 and leave /api/v1/openapi.json, the admin shows none of it, the CLI has no such command;
* with `restock` blocked, the stock stays held and each cancel/refund event says so.

Then the gateway plugins blocked down to payment_manual and down to none, every built-in
blocked at once, and a schema upgrade with a blocked plugin that owns tables (a clear refusal,
not Alembic's traceback).
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from hookkit import login
from sqlalchemy import select

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.core.order_links import customer_order_link
from ordermill.core.plugins import ENTRY_POINT_GROUP, PluginHost, UnknownHook
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.testing import TEST_SECRET_KEY
from ordermill.web import create_app

pytestmark = pytest.mark.slow  # two apps and ~50 API calls per built-in plugin, both databases

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


def test_the_builtin_plugins_are_found_from_the_distribution() -> None:
    assert {"restock", "payment_banktransfer", "payment_manual", "notify_email",
            "provisioning"} <= set(BUILTINS)


# ---------------------------------------------------------------------------- the apps


def settings_blocking(mill: Ordermill, blocked: tuple[str, ...]) -> Settings:
    """The test app's settings, with ORDERMILL_BLOCK_PLUGINS read as the environment gives it."""
    env = {"ORDERMILL_BLOCK_PLUGINS": ",".join(blocked)} if blocked else {}
    fields = ("database_url", "instance_path", "outbox_backoff_seconds", "secret_key")
    settings = Settings.from_env(env=env, **{name: getattr(mill.settings, name)
                                             for name in fields})
    assert settings.block_plugins == blocked
    return settings


def make_app(mill: Ordermill, blocked: tuple[str, ...]) -> Ordermill:
    settings = settings_blocking(mill, blocked)
    return Ordermill(settings, plugins=PluginHost(settings), engine=mill.engine)


class Spy:
    """Wraps every @hookimpl function of the plugins' objects (their entry points' modules)
    in place, so a host that registers them calls the wrapper; `calls` records hook names."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]) -> None:
        self.calls: dict[str, list[str]] = {name: [] for name in names}
        self.wrappers: dict[str, set[Callable[..., Any]]] = {name: set() for name in names}
        for ep in importlib.metadata.distribution("ordermill").entry_points:
            if ep.group != ENTRY_POINT_GROUP or ep.name not in names:
                continue
            plugin = ep.load()
            for attr in dir(plugin):
                value = getattr(plugin, attr)
                if callable(value) and hasattr(value, "ordermill_impl"):
                    wrapper = self._wrap(ep.name, attr, value)
                    monkeypatch.setattr(plugin, attr, wrapper)
                    self.wrappers[ep.name].add(wrapper)

    def _wrap(self, plugin: str, hook: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls[plugin].append(hook)
            return function(*args, **kwargs)

        return spy

    def reset(self) -> None:
        for calls in self.calls.values():
            calls.clear()


# ---------------------------------------------------------------------------- the order lives


def check(response: Any, status: int = 200) -> Json:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    data = response.get_json()
    assert data is not None
    if "hook_failures" in data:
        assert data["hook_failures"] == [], data["hook_failures"]
    return data


def payment_method(app: Ordermill) -> str:
    """An offline gateway the app has (bank transfer when there), or any name when no
    gateway plugin is loaded at all (the core then takes any)."""
    gateways = app.gateways
    offline = [name for name, spec in gateways.items() if not spec.online]
    for name in (*OFFLINE_FIRST, *sorted(offline)):
        if name in gateways:
            return name
    assert not gateways, f"no offline gateway left to pay with: {sorted(gateways)}"
    return "banktransfer"


class Desk:
    """The JSON API of one web app, as a staff member with a bearer token."""

    def __init__(self, web: Any, token: str) -> None:
        self.client: FlaskClient = web.test_client()
        self.auth = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Json, status: int = 200) -> Json:
        return check(self.client.post(f"/api/v1{path}", headers=self.auth, json=body), status)

    def get(self, path: str) -> Json:
        return check(self.client.get(f"/api/v1{path}", headers=self.auth))

    def place(self, lines: list[tuple[str, int]], method: str) -> str:
        placed = self.post("/orders", {
            "customer": {"email": "bea@example.com", "name": "Bea Buyer"},
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "payment_method": method}, 201)
        assert placed["order"]["status"] == "pending"
        return str(placed["order"]["number"])

    def finish(self, number: str) -> None:
        """Pay, accept, then cancel and refund an order placed earlier."""
        assert self.post(f"/orders/{number}/mark-paid", {})["order"]["payment_status"] == "paid"
        assert self.post(f"/orders/{number}/accept", {})["order"]["status"] == "active"
        both = self.post(f"/orders/{number}/cancel-and-refund", {"restock": True})
        assert both["order"]["payment_status"] == "refunded"


HELD_OPEN = {"MUG": 1, "TICKET": 1}  # what the order left open by `drive` holds
HELD_CLOSED = {"MUG": 6, "TICKET": 1}  # what the three closed orders of `drive` held


def drive(desk: Desk, method: str) -> dict[str, str]:
    """Four order lives through the API: paid, accepted and refunded; cancelled; part paid,
    then cancelled and refunded; and one left open. Returns their numbers by those names."""
    paid = desk.place([("MUG", 2), ("TICKET", 1)], method)
    assert desk.post(f"/orders/{paid}/mark-paid", {"reference": "BANK-1"})[
        "order"]["payment_status"] == "paid"
    assert desk.post(f"/orders/{paid}/accept", {})["order"]["status"] == "active"
    refunded = desk.post(f"/orders/{paid}/refund", {"restock": True, "comment": "Returned"})
    assert refunded["order"]["payment_status"] == "refunded"

    cancelled = desk.place([("MUG", 3)], method)
    assert desk.post(f"/orders/{cancelled}/cancel", {"restock": True})["order"]["status"] == (
        "cancelled")

    part_paid = desk.place([("MUG", 1)], method)
    desk.post(f"/orders/{part_paid}/payments", {"amount": "4.00", "reference": "BANK-2"})
    both = desk.post(f"/orders/{part_paid}/cancel-and-refund", {})
    assert both["order"]["payment_status"] == "refunded"

    still_open = desk.place(list(HELD_OPEN.items()), method)
    numbers = {"paid": paid, "cancelled": cancelled, "part_paid": part_paid,
               "open": still_open}
    for number in numbers.values():
        assert desk.get(f"/orders/{number}")["number"] == number
    for path in ("/orders", "/statuses", "/plugins", "/payments", "/auth/me"):
        desk.get(path)
    return numbers


def minus(start: dict[str, int | None], *held: dict[str, int]) -> dict[str, int | None]:
    left = dict(start)
    for units_held in held:
        for sku, count in units_held.items():
            left[sku] = (left[sku] or 0) - count
    return left


def stock(mill: Ordermill) -> dict[str, int | None]:
    with mill.read_session() as session:
        return {sku: count for sku, count in session.execute(select(Product.sku, Product.stock))}


def units(mill: Ordermill, numbers: dict[str, str]) -> list[tuple[int, int]]:
    orders = [mill.orders.get(number) for number in numbers.values()]
    return [(line.units_held, line.units_released) for order in orders
            for line in order.lines]


# ---------------------------------------------------------------------------- what a plugin adds


@attrs.frozen
class Surface:
    """Everything one plugin adds to an app, read from its own hooks in the loaded app."""

    hooks: frozenset[str]
    gateways: frozenset[str]
    statuses: frozenset[str]
    job_kinds: frozenset[str]
    permissions: frozenset[str]
    hookspecs: frozenset[str]
    rules: frozenset[tuple[str, str]]  # (rule, method) of its blueprints' routes
    api_paths: frozenset[str]  # those routes in the OpenAPI document's spelling
    menu_links: frozenset[str]
    panels: frozenset[str]
    buttons: frozenset[str]
    settings_pages: frozenset[str]
    commands: frozenset[str]
    request_fields: frozenset[str]
    list_filters: frozenset[str]


def _names(host: PluginHost, plugin: str, hook: str, key: Callable[[Any], str],
           **kwargs: Any) -> frozenset[str]:
    try:
        outcome = host.call_one(plugin, hook, **kwargs)
    except UnknownHook:
        return frozenset()
    return frozenset(key(spec) for specs in outcome.values for spec in specs)


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def surface_of(app: Ordermill, web: Any, plugin: str, order: Any) -> Surface:
    host = app.plugins
    [info] = [info for info in host.plugin_infos() if info.name == plugin]
    blueprints = _names(host, plugin, "register_blueprints", lambda bp: bp.name)
    rules = {(rule.rule, method) for rule in web.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in blueprints
             for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    staging = click.Group("ordermill")
    if "register_commands" in info.hooks:
        host.call_one(plugin, "register_commands", cli=staging)
    return Surface(
        hooks=frozenset(info.hooks),
        gateways=_names(host, plugin, "register_payment_gateways", lambda s: s.name),
        statuses=_names(host, plugin, "register_statuses", lambda s: s.name),
        job_kinds=_names(host, plugin, "register_job_handlers", lambda s: s.kind),
        permissions=_names(host, plugin, "register_permissions", lambda s: s.name),
        hookspecs=frozenset(name for name in vars(host.pm.hook)
                            if host.spec_owner(name) == plugin),
        rules=frozenset(rules),
        api_paths=frozenset(openapi_path(rule) for rule, _method in rules),
        menu_links=_names(host, plugin, "admin_menu_links", lambda link: link.href,
                          actor=ADMIN),
        panels=_names(host, plugin, "admin_order_panels", lambda panel: panel.title,
                      order=order, actor=ADMIN),
        buttons=_names(host, plugin, "admin_order_actions", lambda button: button.label,
                       order=order, actor=ADMIN),
        settings_pages=_names(host, plugin, "admin_settings_pages", lambda page: page.name),
        commands=frozenset(staging.commands),
        request_fields=_names(host, plugin, "order_request_fields", lambda field: field.name),
        list_filters=_names(host, plugin, "order_list_filters", lambda spec: spec.name),
    )


def concrete(rule: str, number: str) -> str:
    """A URL matching a rule: the order number for `number` arguments, 1 for the rest."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                  lambda found: number if "number" in found.group(1) else "1", rule)


def cli_commands(env: dict[str, str]) -> tuple[set[str], CliRunner]:
    runner = CliRunner()
    with runner.isolation(env=env):
        context = click.Context(main)
        return set(main.list_commands(context)), runner


def impls_of(host: PluginHost, plugin: str) -> list[Any]:
    """(hook name, pluggy HookImpl) of every implementation a plugin has in a host."""
    return [(name, impl) for name, caller in vars(host.pm.hook).items()
            if hasattr(caller, "get_hookimpls") for impl in caller.get_hookimpls()
            if impl.plugin_name == plugin]


# ---------------------------------------------------------------------------- the test


@pytest.mark.parametrize("plugin", BUILTINS)
def test_block_each_builtin_plugin(
    plugin: str, mill: Ordermill, shop: None, tokens: dict[str, str], clean_env: None,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    spy = Spy(monkeypatch, (plugin,))
    loaded = make_app(mill, ())
    blocked = make_app(mill, (plugin,))
    impls = impls_of(loaded.plugins, plugin)
    # the loaded app calls the plugin through the spy
    assert impls and {impl.function for _hook, impl in impls} <= spy.wrappers[plugin]

    # -- the order lives: the loaded app first, then the blocked one
    start = stock(mill)
    loaded_web = create_app(loaded, dict(APP_CONFIG))
    loaded_orders = drive(Desk(loaded_web, tokens["admin"]), payment_method(loaded))
    implemented = {hook for hook, _impl in impls}
    if implemented & FLOW_HOOKS:  # control: the spy sees what the order lives call
        assert set(spy.calls[plugin]) >= implemented & FLOW_HOOKS, spy.calls[plugin]
    assert stock(mill) == minus(start, HELD_OPEN)  # everything else went back

    spy.reset()
    blocked_web = create_app(blocked, dict(APP_CONFIG))
    assert spy.calls[plugin] == []  # making the app asked nothing of the blocked plugin
    desk = Desk(blocked_web, tokens["admin"])
    blocked_orders = drive(desk, payment_method(blocked))
    # an order placed while the plugin was loaded is finished after it is blocked
    desk.finish(loaded_orders["open"])
    for number in loaded_orders.values():
        desk.get(f"/orders/{number}")
    blocked.outbox.run_once()  # jobs the plugin queued meet a worker without it
    assert spy.calls[plugin] == []

    if plugin == "restock":
        # held: both open orders, and what every order closed by the blocked app held
        assert stock(mill) == minus(start, HELD_OPEN, HELD_OPEN, HELD_CLOSED)
        closed = {key: blocked_orders[key] for key in ("paid", "cancelled", "part_paid")}
        assert all(released == 0 for _held, released in units(mill, closed))
        for number, kind, kept in ((blocked_orders["paid"], "refunded",
                                    {"MUG": 2, "TICKET": 1}),
                                   (blocked_orders["cancelled"], "cancelled", {"MUG": 3}),
                                   (blocked_orders["part_paid"], "cancelled_and_refunded",
                                    {"MUG": 1}),
                                   (loaded_orders["open"], "cancelled_and_refunded",
                                    HELD_OPEN)):
            event = [e for e in mill.orders.history(number) if e.type == kind][-1]
            assert event.data["stock_kept"] == kept, event.message
            assert "Stock not released" in event.message and "units stay held" in event.message
    else:
        assert stock(mill) == minus(start, HELD_OPEN)  # the blocked app's open order

    # -- what the plugin registers, loaded vs blocked
    order = loaded.orders.get(loaded_orders["paid"])
    surface = surface_of(loaded, loaded_web, plugin, order)
    host = blocked.plugins
    assert plugin not in {info.name for info in host.plugin_infos()}
    assert host.pm.get_plugin(plugin) is None
    assert impls_of(host, plugin) == []
    assert surface.gateways.isdisjoint(blocked.gateways)
    assert surface.statuses.isdisjoint(spec.name for spec in blocked.statuses)
    assert surface.job_kinds.isdisjoint(blocked.job_handlers)
    assert surface.permissions.isdisjoint(blocked.permissions.labels)
    for hook in surface.hookspecs:
        with pytest.raises(UnknownHook):
            host.dispatch(hook)

    check_web(plugin, surface, loaded_web, blocked_web, blocked, tokens,
              loaded_orders, blocked_orders["paid"])
    check_cli(plugin, surface, tmp_path)
    check_legacy_paths(plugin, blocked_web, tokens, blocked_orders["paid"])


def check_web(plugin: str, surface: Surface, loaded_web: Any, blocked_web: Any,
              blocked: Ordermill, tokens: dict[str, str], loaded_orders: dict[str, str],
              blocked_number: str) -> None:
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    api = blocked_web.test_client()
    spec = check(api.get("/api/v1/openapi.json"))
    loaded_spec = check(loaded_web.test_client().get("/api/v1/openapi.json"))
    assert surface.api_paths.isdisjoint(spec["paths"]), sorted(surface.api_paths
                                                              & set(spec["paths"]))
    for rule, method in sorted(surface.rules):
        url = concrete(rule, blocked_number)
        answer = api.open(url, method=method, headers=auth,
                          json={} if method != "GET" else None)
        assert answer.status_code == 404, (method, url, answer.status_code)
    # the plugin's order fields and list filters left the document too
    place_in = spec["components"]["schemas"]["PlaceIn"]["properties"]
    assert surface.request_fields.isdisjoint(place_in)
    listing = {parameter["name"] for parameter in
               spec["paths"]["/api/v1/orders"]["get"].get("parameters", [])}
    assert surface.list_filters.isdisjoint(listing)
    if surface.request_fields:  # control: the loaded document had them
        assert surface.request_fields <= set(
            loaded_spec["components"]["schemas"]["PlaceIn"]["properties"])

    # the admin: pages work, and nothing of the plugin shows
    admin = login(blocked_web.test_client(), blocked, "admin")
    shown = login(loaded_web.test_client(), blocked, "admin")
    loaded_number = loaded_orders["paid"]
    earlier = [f"/admin/orders/{number}" for number in loaded_orders.values()]
    for path in ("/admin/orders", f"/admin/orders/{blocked_number}", *earlier,
                 "/admin/orders/new", "/admin/payments", "/admin/jobs/dead",
                 "/admin/settings/statuses", "/admin/settings/shop", "/admin/settings/staff",
                 "/admin/orders/export.csv", "/admin/payments/export.csv"):
        assert admin.get(path).status_code == 200, path
    everything = [*loaded_orders.values(), blocked_number]
    for number in everything:  # orders placed with and without the plugin
        order = blocked.orders.get(number)
        for path in (f"/admin/orders/{number}/receipt",
                     *(f"/admin/orders/{number}/invoices/{invoice.id}"
                       for invoice in order.invoices),
                     *(f"/admin/orders/{number}/{dialog}"
                       for dialog in ("refund", "payment", "status", "delete", "comment")),
                     customer_order_link(blocked, number)):
            assert admin.get(path).status_code == 200, path
    html = admin.get(f"/admin/orders/{blocked_number}").get_data(as_text=True)
    assert f'data-plugin="{plugin}"' not in html  # no panel, no button
    loaded_html = shown.get(f"/admin/orders/{loaded_number}").get_data(as_text=True)
    if surface.panels or surface.buttons:  # control: the loaded page had them
        assert f'data-plugin="{plugin}"' in loaded_html
    nav = admin.get("/admin/orders").get_data(as_text=True)
    links = set(re.findall(r'<a href="([^"]+)" data-testid="plugin-menu-link"', nav))
    assert surface.menu_links.isdisjoint(links)
    for href in surface.menu_links:
        assert admin.get(href).status_code == 404, href
    settings_page = admin.get("/admin/settings/shop").get_data(as_text=True)
    for name in surface.settings_pages:
        assert f'data-testid="settings-tab-{name}"' not in settings_page
        assert admin.get(f"/admin/settings/plugins/{name}").status_code == 404
        assert shown.get(f"/admin/settings/plugins/{name}").status_code == 200  # control


def check_cli(plugin: str, surface: Surface, tmp_path: Path) -> None:
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path / "cli"),
           "ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
           "ORDERMILL_SECRET_KEY": TEST_SECRET_KEY}
    blocked_env = {**env, "ORDERMILL_BLOCK_PLUGINS": plugin}
    with_plugin, _runner = cli_commands(env)
    without, runner = cli_commands(blocked_env)
    assert surface.commands <= with_plugin
    assert surface.commands.isdisjoint(without)
    for name in surface.commands:
        refused = runner.invoke(main, [name, "--help"], env=blocked_env)
        assert refused.exit_code == 2 and f"No such command '{name}'" in refused.output
    listed = runner.invoke(main, ["plugins", "--json"], env=blocked_env)
    assert listed.exit_code == 0, listed.output
    assert f'"name": "{plugin}"' not in listed.output


@pytest.mark.parametrize("keep", ["payment_manual", None], ids=["only-manual", "no-gateway"])
def test_blocking_the_gateway_plugins_still_takes_orders(
    keep: str | None, mill: Ordermill, shop: None, tokens: dict[str, str],
) -> None:
    """With every gateway plugin but payment_manual blocked the shop takes cheques and
    invoices; with every one blocked, orders are still placed and marked paid by hand."""
    gateway_plugins = tuple(sorted(
        name for name in mill.plugins.implementers("register_payment_gateways")
        if name in BUILTINS and name != keep))
    assert "payment_banktransfer" in gateway_plugins
    app = make_app(mill, gateway_plugins)
    method = payment_method(app)
    if keep:
        assert not {spec.name for spec in app.gateways.values()
                    if spec.online} and method in ("cheque", "invoice")
    else:
        assert app.gateways == {}
    start = stock(mill)
    numbers = drive(Desk(create_app(app, dict(APP_CONFIG)), tokens["admin"]), method)
    assert stock(mill) == minus(start, HELD_OPEN)
    paid = app.orders.get(numbers["paid"])
    assert [payment.gateway for payment in paid.payments if payment.kind == "charge"] == [
        method]


def check_legacy_paths(plugin: str, blocked_web: Any, tokens: dict[str, str],
                       number: str) -> None:
    """The routes the host served for the plugin before issue 12 are gone with it too."""
    paths = LEGACY_PATHS.get(plugin, ())
    client = blocked_web.test_client()
    spec = check(client.get("/api/v1/openapi.json"))
    assert set(paths).isdisjoint(spec["paths"]), sorted(set(paths) & set(spec["paths"]))
    for path in paths:
        url = concrete(path.replace("{", "<").replace("}", ">"), number)
        answer = client.get(url, headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert answer.status_code == 404, url
