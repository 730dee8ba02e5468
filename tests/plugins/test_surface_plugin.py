"""A third-party plugin using the whole extension surface, really installed (issue 12,
acceptance 3).

tests/plugins/surface_dist holds two distributions: `ordermill-surface-plugin` (entry point
`surface`: an API route, a CLI group, an admin menu link, an order panel and button, the
permission `surface.stamp` for admins and managers, and its own hook `surface_badges`) and
`ordermill-surface-addon` (entry point `surface_addon`, implementing `surface_badges` with
optionalhook=True). Each is pip-installed into a throw-away directory of its own and found
by entry point, as test_third_party_plugin.py does for example_dist; the order of the two
directories on the path decides which loads first, and both orders are tested.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import click
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from hookkit import CSRF_INPUT, FakeSite, login, site  # noqa: F401

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginLoadError
from ordermill.core.models import Product
from ordermill.core.plugins import PluginHost, UnknownHook
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.testing import TEST_SECRET_KEY, order_request
from ordermill.web import create_app

pytestmark = pytest.mark.slow  # pip-installs two distributions

SURFACE_DIST = Path(__file__).resolve().parent / "surface_dist"
PLUGIN, ADDON = "surface", "surface_addon"
MODULES = {PLUGIN: "ordermill_surface_plugin", ADDON: "ordermill_surface_addon"}
DISTS = {PLUGIN: ("ordermill-surface-plugin", "2.1.0"),
         ADDON: ("ordermill-surface-addon", "0.3.0")}
SOURCES = {PLUGIN: "plugin", ADDON: "addon"}
PERMISSION = "surface.stamp"
STAMPS = "/api/v1/surface/orders/{number}/stamps"
STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)
APP_CONFIG = {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute",
              "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute",
              "ORDERMILL_CHECKOUT_RATE_LIMIT": "1000 per minute"}


# ---------------------------------------------------------------------------- installing


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{entry point: site directory}: each distribution pip-installed into its own directory
    (built from a copy, so no build files land in tests/)."""
    work = tmp_path_factory.mktemp("surface-plugin")
    found = {}
    for name, folder in SOURCES.items():
        source = work / f"source-{folder}"
        shutil.copytree(SURFACE_DIST / folder, source)
        target = work / f"site-{folder}"
        completed = subprocess.run(
            # built with this venv's setuptools, as the kit's distributions are: an isolated
            # build environment cost 2.5 s of pip installing setuptools per distribution
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
             "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
             str(source)],
            capture_output=True, text=True, timeout=180, check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"pip could not install {DISTS[name][0]}:\n{completed.stderr}")
        dist, version = DISTS[name]
        assert list(target.glob(f"{dist.replace('-', '_')}-{version}.dist-info"))
        found[name] = target
    assert (found[PLUGIN] / MODULES[PLUGIN] / "templates" / "stamps_panel.html").exists()
    return found


def forget_modules() -> None:
    for module in MODULES.values():
        sys.modules.pop(module, None)


@pytest.fixture(params=[PLUGIN, ADDON], ids=["plugin-first", "addon-first"])
def installed(request: pytest.FixtureRequest, sites: dict[str, Path],
              monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both distributions visible to importlib.metadata in this process; the parameter's is
    found (and registered) first. Yields the name of the one loaded first."""
    first = str(request.param)
    second = ADDON if first == PLUGIN else PLUGIN
    forget_modules()
    monkeypatch.syspath_prepend(str(sites[second]))
    monkeypatch.syspath_prepend(str(sites[first]))  # prepended last: searched first
    yield first
    forget_modules()


def addon_calls() -> list[str]:
    module: ModuleType = sys.modules[MODULES[ADDON]]
    return module.CALLS  # type: ignore[no-any-return]


def plugin_app(mill: Ordermill, **settings: Any) -> Ordermill:
    changed = attrs.evolve(mill.settings, **settings)
    return Ordermill(changed, plugins=PluginHost(changed), engine=mill.engine)


@pytest.fixture
def shop(make_product: Callable[..., Product]) -> None:
    make_product("MUG", price=1200, stock=20)
    make_product("CAP", price=900, stock=20)


def place(app: Ordermill, lines: list[tuple[str, int]]) -> str:
    result = app.orders.place(order_request(lines), actor=STAFF)
    assert result.order is not None
    return result.order.number


def bearer(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def stamp_events(app: Ordermill, number: str) -> list[tuple[str, str]]:
    return [(event.actor, event.message) for event in app.orders.history(number)
            if event.type == "surface_stamped"]


def nav_links(client: FlaskClient) -> dict[str, str]:
    """The plugin links of the navigation, but the built-in plugins' ("Servers" of
    provisioning, "Reports" of reports, "Recurring orders" of subscriptions)."""
    page = client.get("/admin/orders").get_data(as_text=True)
    return {label: href for href, label in re.findall(
        r'<a href="([^"]+)" data-testid="plugin-menu-link"[^>]*>([^<]+)</a>', page)
        if not href.startswith(("/admin/provisioning/", "/admin/reports/",
                                "/admin/subscriptions"))}


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, html
    return found.group(1)


# ---------------------------------------------------------------------------- it works


def test_every_part_shows_up_and_works(
    installed: str, mill: Ordermill, shop: None, tokens: dict[str, str],
) -> None:
    app = plugin_app(mill)
    registered = [name for name, _plugin in app.plugins.pm.list_name_plugin()
                  if name in (PLUGIN, ADDON)]
    assert registered[0] == installed  # the order this parametrization promised
    infos = {info.name: info for info in app.plugins.plugin_infos()}
    for name in (PLUGIN, ADDON):
        assert (infos[name].distribution, infos[name].version) == DISTS[name]
    assert app.plugins.spec_owner("surface_badges") == PLUGIN
    assert app.plugins.implementers("surface_badges") != []
    assert set(app.plugins.implementers("surface_badges")) == {PLUGIN, ADDON}
    web = create_app(app, dict(APP_CONFIG))
    api = web.test_client()
    number = place(app, [("MUG", 2), ("CAP", 1)])
    url = STAMPS.format(number=number)
    calls_before = len(addon_calls())

    # the route, in the OpenAPI document with its schemas
    spec = api.get("/api/v1/openapi.json").get_json()
    operations = spec["paths"]["/api/v1/surface/orders/{number}/stamps"]
    assert set(operations) >= {"get", "post"}
    assert operations["post"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/StampIn")
    assert "note" in spec["components"]["schemas"]["StampIn"]["properties"]

    # ... answers staff holding the permission, through B's implementation of A's hook
    stamped = api.post(url, headers=bearer(tokens, "admin"), json={"note": "checked"})
    assert stamped.status_code == 201, stamped.get_json()
    assert stamped.get_json()["stamps"] == 1
    assert sorted(stamped.get_json()["badges"]) == ["addon: 2 line(s)", "stamped x1"]
    by_manager = api.post(url, headers=bearer(tokens, "manager"), json={"note": "again"})
    assert by_manager.status_code == 201, by_manager.get_json()
    read = api.get(url, headers=bearer(tokens, "manager"))
    assert read.status_code == 200
    assert read.get_json() == {"number": number, "stamps": 2,
                               "badges": read.get_json()["badges"]}
    assert sorted(read.get_json()["badges"]) == ["addon: 2 line(s)", "stamped x2"]
    assert len(addon_calls()) > calls_before and addon_calls()[-1] == number
    assert [message for _actor, message in stamp_events(app, number)] == [
        "Stamp 1: checked", "Stamp 2: again"]

    # ... and refuses the others, storing nothing
    for role in ("support", "viewer"):
        for answer in (api.get(url, headers=bearer(tokens, role)),
                       api.post(url, headers=bearer(tokens, role), json={"note": "no"})):
            assert answer.status_code == 403, (role, answer.get_json())
            assert answer.get_json()["error"]["code"] == "permission_denied"
    assert api.get(url).status_code == 401
    assert api.post(url, json={"note": "anonymous"}).status_code == 401
    assert api.post(url, headers=bearer(tokens, "admin"), json={}).status_code == 422
    assert len(stamp_events(app, number)) == 2
    me = {role: api.get("/api/v1/auth/me", headers=bearer(tokens, role)).get_json()
          for role in ("manager", "support")}
    assert PERMISSION in me["manager"]["permissions"]
    assert PERMISSION not in me["support"]["permissions"]

    # the admin: link, panel and button for a holder of the permission
    admin = login(web.test_client(), app, "admin")
    assert nav_links(admin) == {"Surface desk": "/admin/surface"}
    assert admin.get("/admin/surface").status_code == 200
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    panel = page[page.index('data-testid="plugin-panel" data-plugin="surface"'):]
    assert "Surface stamps" in panel
    assert f"Order {number} has <strong>2</strong> stamp(s)." in panel
    assert "<li>addon: 2 line(s)</li>" in panel  # B's badge, through A's hook
    button = re.search(r'<form method="post" action="/admin/surface/stamp\?number=' + number
                       + r'" class="inline" data-confirm="Stamp this order\?">(.*?)</form>',
                       page, re.S)
    assert button is not None and "Stamp order" in button.group(1)
    pressed = admin.post(f"/admin/surface/stamp?number={number}",
                         data={"csrf_token": csrf_of(button.group(1))})
    assert pressed.status_code == 303
    assert pressed.headers["Location"].endswith(f"/admin/orders/{number}")
    actor, message = stamp_events(app, number)[-1]
    assert message == "Stamp 3: from the admin" and "admin-" in actor  # the logged-in user
    forged = admin.post(f"/admin/surface/stamp?number={number}", data={})
    assert forged.status_code == 400  # no CSRF token: refused
    staff_page = admin.get("/admin/settings/staff").get_data(as_text=True)
    assert "Stamp orders (surface plugin)" in staff_page

    # ... and none of it for roles without it
    for role in ("support", "viewer"):
        other = login(web.test_client(), app, role)
        assert "Surface desk" not in nav_links(other)
        assert other.get("/admin/surface").status_code == 403
        page = other.get(f"/admin/orders/{number}").get_data(as_text=True)
        assert "Stamp order" not in page and "/admin/surface/stamp" not in page
        token = csrf_of(page)
        refused = other.post(f"/admin/surface/stamp?number={number}",
                             data={"csrf_token": token})
        assert refused.status_code == 403, role
    assert len(stamp_events(app, number)) == 3

    # the button shows only where it applies: not on a cancelled order
    app.orders.cancel(number, actor=STAFF)
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert "Stamp order" not in page and "Surface stamps" in page


# ---------------------------------------------------------------------------- the command line


def run_cli(args: list[str], sites: dict[str, Path], env: dict[str, str],
            **extra: str) -> subprocess.CompletedProcess[str]:
    """The real `ordermill` console script, with both distributions on its path."""
    full = {key: value for key, value in os.environ.items()
            if not key.startswith("ORDERMILL_")}
    full.update(env)
    full.update(extra)
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [*map(str, sites.values()),
                                                       full.get("PYTHONPATH")]))
    script = Path(sys.executable).parent / "ordermill"
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from ordermill.cli import main; main()"]
    return subprocess.run(command + args, capture_output=True, text=True, env=full,
                          timeout=120, check=False, cwd=env["ORDERMILL_INSTANCE_PATH"])


def test_the_cli_command_runs_through_the_console_script(
    sites: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {"ORDERMILL_INSTANCE_PATH": str(instance),
           "ORDERMILL_DATABASE_URL": f"sqlite:///{instance / 'shop.sqlite'}",
           "ORDERMILL_SECRET_KEY": TEST_SECRET_KEY}
    made = run_cli(["init"], sites, env)
    assert made.returncode == 0, made.stderr
    for path in sites.values():
        monkeypatch.syspath_prepend(str(path))
    forget_modules()
    try:
        app = Ordermill(Settings.from_env(env=env))
        with app.write_session() as session, session.begin():
            session.add(Product(sku="MUG", name="Mug", price=1200, currency="EUR", stock=5))
        number = place(app, [("MUG", 1)])
        app.dispose()
    finally:
        forget_modules()

    listed = run_cli(["plugins", "--json"], sites, env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    plugins = {plugin["name"]: plugin for plugin in data["plugins"]}
    assert (plugins[PLUGIN]["distribution"], plugins[PLUGIN]["version"]) == DISTS[PLUGIN]
    assert {"add_hookspecs", "register_commands", "register_blueprints",
            "register_permissions", "admin_menu_links", "admin_order_panels",
            "admin_order_actions", "surface_badges"} <= set(plugins[PLUGIN]["hooks"])
    assert plugins[ADDON]["hooks"] == ["surface_badges"]
    assert data["failures"] == []

    helped = run_cli(["--help"], sites, env)
    assert helped.returncode == 0 and "Order stamps (surface plugin)" in helped.stdout
    shown = run_cli(["surface", "badges", number], sites, env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"Order {number}: 0 stamp(s); badges: addon: 1 line(s)"

    blocked = run_cli(["surface", "badges", number], sites, env,
                      ORDERMILL_BLOCK_PLUGINS=PLUGIN)
    assert blocked.returncode == 2 and "No such command 'surface'" in blocked.stderr
    listed = run_cli(["plugins", "--json"], sites, env, ORDERMILL_BLOCK_PLUGINS=PLUGIN)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert {plugin["name"] for plugin in data["plugins"]} >= {ADDON}
    assert PLUGIN not in {plugin["name"] for plugin in data["plugins"]}
    assert data["failures"] == []


# ---------------------------------------------------------------------------- blocked


def test_blocking_the_plugin_removes_all_of_it_and_the_addon_is_never_called(
    installed: str, mill: Ordermill, shop: None, tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = plugin_app(mill, block_plugins=(PLUGIN,))  # no start-up error
    assert app.plugins.failures == []
    names = {info.name for info in app.plugins.plugin_infos()}
    assert ADDON in names and PLUGIN not in names
    with pytest.raises(UnknownHook):
        app.plugins.dispatch("surface_badges")
    assert PERMISSION not in app.permissions.labels
    web = create_app(app, dict(APP_CONFIG))
    api = web.test_client()
    number = place(app, [("MUG", 1)])
    url = STAMPS.format(number=number)

    assert api.get(url, headers=bearer(tokens, "admin")).status_code == 404
    assert api.post(url, headers=bearer(tokens, "admin"),
                    json={"note": "x"}).status_code == 404
    spec = api.get("/api/v1/openapi.json").get_json()
    assert not any(path.startswith("/api/v1/surface") for path in spec["paths"])
    assert "StampIn" not in spec["components"]["schemas"]
    # (not /auth/me here: it reads the process's permissions, which the `mill` fixture's app,
    # loaded with the plugin, adds to)

    admin = login(web.test_client(), app, "admin")
    assert nav_links(admin) == {}
    assert admin.get("/admin/surface").status_code == 404
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-plugin="surface"' not in page and "Surface stamps" not in page
    assert admin.post(f"/admin/surface/stamp?number={number}",
                      data={"csrf_token": csrf_of(page)}).status_code == 404
    assert "Stamp orders (surface plugin)" not in admin.get(
        "/admin/settings/staff").get_data(as_text=True)
    for action in ("mark-paid", "accept"):
        done = api.post(f"/api/v1/orders/{number}/{action}",
                        headers=bearer(tokens, "admin"), json={})
        assert done.status_code == 200, done.get_json()
        assert done.get_json()["hook_failures"] == []

    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)
    runner = CliRunner()
    with runner.isolation(env={"ORDERMILL_BLOCK_PLUGINS": PLUGIN}):
        commands = main.list_commands(click.Context(main))
    assert "surface" not in commands
    with runner.isolation(env={}):
        assert "surface" in main.list_commands(click.Context(main))  # control

    assert addon_calls() == []  # B was loaded, and never called


# ---------------------------------------------------------------------------- misspelt hooks


TYPO = '''
from ordermill.api import hookimpl


@hookimpl(optionalhook=True)
def surface_badges(order):
    return ["typo"]


@hookimpl
def on_acept(order, ctx):
    """Misspelt: on_accept is the core's."""
'''

OPTIONAL_TYPO = '''
from ordermill.api import hookimpl


@hookimpl(optionalhook=True)
def surface_badge(order):
    """Misspelt too, but optional: a hook of a plugin that may be absent, never called."""
    raise AssertionError("never called")
'''


def test_a_misspelt_core_hook_still_fails_start_up(
    installed: str, mill: Ordermill, site: FakeSite,  # noqa: F811
) -> None:
    typo = site.install("surface-typo", TYPO)
    for blocked in ((), (PLUGIN,)):  # with or without the plugin whose hook it implements
        with pytest.raises(PluginLoadError,
                           match=rf"{typo}.*implements unknown hook 'on_acept'\. Did you "
                                 rf"mean 'on_accept'\?"):
            plugin_app(mill, block_plugins=blocked)
    app = plugin_app(mill, block_plugins=(typo,))  # without it the shop starts
    assert {PLUGIN, ADDON} <= {info.name for info in app.plugins.plugin_infos()}


def test_a_misspelt_optional_hook_is_kept_and_never_called(
    installed: str, mill: Ordermill, shop: None, site: FakeSite, tokens: dict[str, str],  # noqa: F811
) -> None:
    name = site.install("surface-optional", OPTIONAL_TYPO)
    app = plugin_app(mill)
    assert name in {info.name for info in app.plugins.plugin_infos()}
    number = place(app, [("CAP", 1)])
    answer = create_app(app, dict(APP_CONFIG)).test_client().get(
        STAMPS.format(number=number), headers=bearer(tokens, "admin"))
    assert answer.status_code == 200
    assert answer.get_json()["badges"] == ["addon: 1 line(s)"]
