"""Helpers of the extension-hook tests: installed test distributions and an app around them.

`FakeSite` writes a module and its `<dist>.dist-info` (METADATA + entry_points.txt) into a
directory on sys.path, which is exactly what importlib.metadata reads for an installed
package, so these plugins load by entry point and obey ORDERMILL_LOAD/BLOCK_PLUGINS.

SHIPPING is a third-party plugin using every hook of the extension surface: a permission, an
API blueprint with a schema, an admin page and menu links, a CLI group, and a hook of its own
(`shipping_carriers`) that DHL, a second distribution, implements as an optional hook.

Imported by name (`from hookkit import ...`), like tests/admin/adminkit.py.
"""

from __future__ import annotations

import re
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from flask.testing import FlaskClient

from ordermill.core.app import Ordermill
from ordermill.core.plugins import PluginHost
from ordermill.testing_web import PASSWORD, add_user

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class FakeSite:
    """Installs tiny distributions with `ordermill` entry points into sys.path directories."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.modules: list[str] = []
        self.tag = uuid.uuid4().hex[:8]

    def install(self, dist: str, source: str, *, version: str = "1.0",
                entry_point: str | None = None, folder: str = "site-packages") -> str:
        """Write module + dist-info into `folder` (put on sys.path first); returns the
        entry-point name, `dist` unless given."""
        directory = self.root / folder
        if not directory.exists():
            directory.mkdir(parents=True)
            self.monkeypatch.syspath_prepend(str(directory))
        module = f"om_hook_{dist.replace('-', '_')}_{self.tag}"
        (directory / f"{module}.py").write_text(textwrap.dedent(source))
        info = directory / f"{dist.replace('-', '_')}_{self.tag}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {self.dist(dist)}\nVersion: {version}\n")
        name = entry_point or dist
        (info / "entry_points.txt").write_text(f"[ordermill]\n{name} = {module}\n")
        self.modules.append(module)
        return name

    def dist(self, dist: str) -> str:
        return f"{dist}-{self.tag}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path / "sites", monkeypatch)
    yield fake
    for module in fake.modules:
        sys.modules.pop(module, None)


SHIPPING = '''
import click
from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, List, String
from flask import Blueprint, current_app

from ordermill import hookimpl
from ordermill.cli_plugins import current_mill
from ordermill.core.permissions import require
from ordermill.core.specs import AdminLink, PermissionSpec
from ordermill.hookspecs import hookspec, in_transaction, register_hook
from ordermill.web.auth import current_actor, require_actor

PERMISSION = "shipping.labels"


class ShippingHooks:
    @hookspec
    @register_hook
    def shipping_carriers(self, settings):
        """Carriers a plugin can ship with. Register hook of the shipping plugin."""

    @hookspec(firstresult=True)
    @in_transaction
    def shipping_label_price(self, weight):
        """Price of a label in cents. In-transaction hook; stops at the first answer."""


class LabelIn(Schema):
    order_number = String(required=True)
    weight_grams = Integer(required=True)


class LabelOut(Schema):
    order_number = String()
    price = Integer()
    carriers = List(String())


api = APIBlueprint("shipping_api", __name__, url_prefix="/api/v1/shipping", tag="shipping")
pages = Blueprint("shipping_pages", __name__, url_prefix="/admin/shipping")


def carriers():
    mill = current_app.extensions["ordermill"]
    return sorted(name for names in mill.plugins.call("shipping_carriers").values
                  for name in names)


@api.get("/carriers")
def list_carriers():
    require(require_actor(), PERMISSION)
    return {"carriers": carriers()}


@api.post("/labels")
@api.input(LabelIn)
@api.output(LabelOut, status_code=201)
def make_label(json_data):
    require(require_actor(), PERMISSION)
    mill = current_app.extensions["ordermill"]
    price = mill.plugins.call("shipping_label_price", weight=json_data["weight_grams"]).first
    return {"order_number": json_data["order_number"], "price": price or 0,
            "carriers": carriers()}


@pages.get("")
def page():
    actor = current_actor()
    if actor is None:
        return "Log in first", 401
    require(actor, PERMISSION)
    return "<h1>Shipping desk</h1>"


@hookimpl
def add_hookspecs(pm):
    pm.add_hookspecs(ShippingHooks)


@hookimpl
def shipping_label_price(weight):
    return 450 if weight <= 2000 else 900


@hookimpl
def shipping_carriers():
    return ["post"]


@hookimpl
def register_permissions():
    return [PermissionSpec(PERMISSION, "Print parcel labels", roles=("support",))]


@hookimpl
def register_blueprints():
    return [api, pages]


@hookimpl
def admin_menu_links(actor):
    return [AdminLink("Shipping", "/admin/shipping", permission=PERMISSION),
            AdminLink("Shipping help", "/admin/shipping?help=1")]


@hookimpl
def register_commands(cli):
    @cli.group()
    def shipping():
        """Parcels and labels (shipping plugin)."""

    @shipping.command("count")
    def count():
        """How many orders the shop has."""
        from sqlalchemy import func, select

        from ordermill.core.models import Order

        mill = current_mill()
        with mill.read_session() as session:
            total = session.scalar(select(func.count()).select_from(Order))
        click.echo(f"{total} orders to ship")
'''

DHL = '''
from ordermill import hookimpl


@hookimpl(optionalhook=True)
def shipping_carriers(settings):
    return ["dhl"]


@hookimpl(optionalhook=True, tryfirst=True)
def shipping_label_price(weight):
    return 399
'''


def install_shipping(site: FakeSite, *, dhl_first: bool = False) -> tuple[str, str]:
    """Install SHIPPING and DHL (each in its own sys.path folder; `dhl_first` puts DHL's
    folder first, so it is found and registered first). Returns their entry-point names."""
    order = [("dhl", DHL), ("shipping", SHIPPING)]
    if not dhl_first:
        order.reverse()
    names = {}
    for index, (dist, source) in enumerate(reversed(order)):  # prepended: last is first
        names[dist] = site.install(dist, source, folder=f"site-{index}")
    return names["shipping"], names["dhl"]


def plugin_app(mill: Ordermill, **settings: Any) -> Ordermill:
    """An Ordermill on the test database with the installed entry points (and settings such
    as block_plugins=("shipping",))."""
    changed = attrs.evolve(mill.settings, **settings)
    return Ordermill(changed, plugins=PluginHost(changed), engine=mill.engine)


APP_CONFIG = {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute",
              "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute"}


def web_app(mill: Ordermill, **settings: Any) -> Any:
    """The web app around plugin_app(mill, **settings)."""
    from ordermill.web import create_app

    return create_app(plugin_app(mill, **settings), dict(APP_CONFIG))


def login(client: FlaskClient, mill: Ordermill, role: str) -> FlaskClient:
    """Log a new staff user of `role` into the admin on this client."""
    email = add_user(mill, role, f"{role}-{uuid.uuid4().hex[:6]}@shop.test")
    page = client.get("/admin/login").get_data(as_text=True)
    match = CSRF_INPUT.search(page)
    assert match, page
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": match.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
