"""The plugin author's kit: HTTP, admin, webhook and CLI fixtures, and plugin isolation.

Registered by ordermill.testing (the `pytest11` plugin), so a plugin's own test suite gets
these fixtures by installing ordermill. docs/plugins.md ("Testing your plugin") documents
each fixture's arguments; tests/plugins/test_kit.py runs its examples.

  api_token         api_token(role="admin", email=None) -> a bearer token of a new staff user
  api_client        the full app's test client; every request takes `token=` (or `role=`)
  admin_client      a test client logged in to /admin as an admin; posts carry the CSRF token
  admin_login       admin_login(role) -> such a client for a user of another role
  deliver_webhook   deliver_webhook(gateway, body, headers=None) -> the webhook's response
  cli               cli(*args, input=None) -> click's Result of `ordermill ARGS`

Isolation: the `mill` of a test loads the core's built-in plugins plus only those the
`ordermill_plugins` marker names (entry-point names, or plugin objects): the plugins other
distributions had installed when the session started are blocked, so they never change a
test's outcome (a plugin a test installs itself, e.g. into a temporary folder, stays
visible). `pytest --ordermill-all-plugins` loads every installed plugin instead (to try a
whole shop's set together).
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from ordermill.core.app import Ordermill
from ordermill.core.plugins import installed_entry_points
from ordermill.testing_web import PASSWORD, add_user

CORE_DISTRIBUTION = "ordermill"
MARKER = ("ordermill_plugins(*plugins, builtins=True): the test's app loads the core's "
          "built-in plugins plus only these (entry-point names or plugin objects)")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|'
                        r'name="csrf-token" content="([^"]+)"')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ordermill-all-plugins", action="store_true", default=False,
                     help="ordermill: load every installed plugin in `mill`, not only the "
                          "built-ins and those an ordermill_plugins marker names")


# ---- isolation ---------------------------------------------------------------------------

def builtin_plugin_names() -> tuple[str, ...]:
    """Entry points that ordermill's own distribution declares (its built-in plugins)."""
    return tuple(sorted({entry_point.name for entry_point in installed_entry_points()
                         if _distribution(entry_point) == CORE_DISTRIBUTION}))


def _distribution(entry_point: Any) -> str | None:
    dist = getattr(entry_point, "dist", None)
    return dist.metadata["Name"] if dist is not None else None


INSTALLED_AT_START = pytest.StashKey[tuple[str, ...]]()


def remember_installed_plugins(config: pytest.Config) -> None:
    """The plugins other distributions installed before the session started: the ones a
    test does not get unless its marker names them. A plugin a test installs itself (into a
    folder it puts on sys.path) is that test's business and stays visible to it."""
    config.stash[INSTALLED_AT_START] = tuple(sorted(
        {entry_point.name for entry_point in installed_entry_points()
         if _distribution(entry_point) != CORE_DISTRIBUTION}))


def plugin_object_name(plugin: object) -> str:
    """The name a plugin object is registered under: its PLUGIN constant, else its module's
    (or class's) last name."""
    named = getattr(plugin, "PLUGIN", None)
    if isinstance(named, str):
        return named
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__.rsplit(".", 1)[-1]
    return type(plugin).__name__


def plugin_choice(request: pytest.FixtureRequest
                  ) -> tuple[tuple[str, ...], list[tuple[object, str]]]:
    """(entry points to block, plugin objects to register) for one test's `mill`."""
    if request.config.getoption("--ordermill-all-plugins", default=False):
        return (), []
    marker = request.node.get_closest_marker("ordermill_plugins")
    wanted = marker.args if marker else ()
    builtins = marker.kwargs.get("builtins", True) if marker else True
    installed = {entry_point.name for entry_point in installed_entry_points()}
    named: set[str] = set()
    objects: list[tuple[object, str]] = []
    for plugin in wanted:
        if isinstance(plugin, str):
            if plugin not in installed:
                pytest.fail(f"ordermill_plugins names {plugin!r}, but no installed "
                            f"distribution has an `ordermill` entry point of that name "
                            f"(installed: {', '.join(sorted(installed))}).", pytrace=False)
            named.add(plugin)
        else:
            objects.append((plugin, plugin_object_name(plugin)))
    others = set(request.config.stash.get(INSTALLED_AT_START, ()))
    if not builtins:
        others |= set(builtin_plugin_names())
    return tuple(sorted(others - named)), objects


# ---- HTTP ----------------------------------------------------------------------------------

@pytest.fixture
def api_token(mill: Ordermill) -> Callable[..., str]:
    """api_token(role="admin", email=None) -> the bearer token of a new staff user."""
    made: dict[str, str] = {}

    def make(role: str = "admin", email: str | None = None) -> str:
        address = email or f"{role}@shop.test"
        if address not in made:
            if not user_exists(mill, address):  # e.g. made by the `tokens` fixture
                add_user(mill, role, address)
            made[address] = create_token(mill, address)
        return made[address]

    return make


def user_exists(mill: Ordermill, email: str) -> bool:
    from sqlalchemy import select

    from ordermill.core.models import User

    with mill.read_session() as session:
        return session.scalar(select(User.id).where(User.email == email)) is not None


def create_token(mill: Ordermill, email: str) -> str:
    from ordermill.core.staff import create_token as create

    return create(mill, email=email, name="kit token")


class KitClient(FlaskClient):
    """A test client whose requests take `token="..."` or `role="viewer"` for the bearer
    header (a role gets its own user and token, made once)."""

    token_for: Callable[..., str] | None = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        token = kwargs.pop("token", None)
        role = kwargs.pop("role", None)
        if role is not None:
            assert self.token_for is not None, "role= needs the api_client fixture"
            token = self.token_for(role)
        if token is not None:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Authorization", f"Bearer {token}")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture
def api_client(app: Any, api_token: Callable[..., str]) -> KitClient:
    """The full app's test client (core, built-ins and the test's plugins' blueprints)."""
    app.test_client_class = KitClient
    client = app.test_client()
    assert isinstance(client, KitClient)
    client.token_for = api_token
    return client


@pytest.fixture
def deliver_webhook(app: Any) -> Callable[..., Any]:
    """deliver_webhook(gateway, body, headers=None) -> the response of
    POST /api/v1/webhooks/<gateway>; a dict or list body is sent as JSON."""
    client = app.test_client()

    def deliver(gateway: str, body: bytes | str | Mapping[str, Any] | list[Any],
                headers: Mapping[str, str] | None = None) -> Any:
        if isinstance(body, (Mapping, list)):
            data = json.dumps(body).encode()
        else:
            data = body.encode() if isinstance(body, str) else body
        sent = {"Content-Type": "application/json", **dict(headers or {})}
        return client.post(f"/api/v1/webhooks/{gateway}", data=data, headers=sent)

    return deliver


# ---- the admin ----------------------------------------------------------------------------

class AdminClient:
    """A test client logged in (or not) as one staff member; posts carry the CSRF token of
    the last page it read, as a browser form does (`csrf=False` to prove it is needed)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def remember_token(self, html: str) -> None:
        match = CSRF_INPUT.search(html)
        if match:
            self.token = match.group(1) or match.group(2)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        if response.mimetype == "text/html":
            self.remember_token(response.get_data(as_text=True))
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> Any:
        payload = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/admin/login")
            payload.setdefault("csrf_token", self.token)
        response = self.client.post(path, data=payload, **kwargs)
        if response.mimetype == "text/html":
            self.remember_token(response.get_data(as_text=True))
        return response

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.get("/admin/login")
        response = self.post("/admin/login", {"email": email, "password": password})
        if response.status_code == 302:
            self.get("/admin/orders")  # the new session's CSRF token
        return response


@pytest.fixture
def admin_login(app: Any, mill: Ordermill) -> Callable[..., AdminClient]:
    """admin_login(role="admin", email=None) -> an AdminClient logged in as a new user."""

    def login(role: str = "admin", email: str | None = None) -> AdminClient:
        address = add_user(mill, role, email or f"{role}-admin@shop.test")
        admin = AdminClient(app.test_client())
        response = admin.login(address)
        assert response.status_code == 302, response.get_data(as_text=True)
        return admin

    return login


@pytest.fixture
def admin_client(admin_login: Callable[..., AdminClient]) -> AdminClient:
    """An AdminClient logged in as an admin."""
    return admin_login("admin")


# ---- the command line ---------------------------------------------------------------------

def cli_group(mill: Ordermill) -> click.Group:
    """The `ordermill` group with the commands of `mill`'s plugins (those of the test)."""
    from ordermill.cli import main
    from ordermill.cli.common import _OrdermillGroup  # core errors: one line, exit code 1

    group = _OrdermillGroup("ordermill", commands=dict(main.commands), callback=main.callback)
    for plugin in mill.plugins.implementers("register_commands"):
        staging = click.Group("ordermill")
        mill.plugins.call_one(plugin, "register_commands", cli=staging)
        for name, command in staging.commands.items():
            if name in group.commands:
                raise click.UsageError(f"plugin {plugin} adds the command {name!r}, which "
                                       f"the command line already has")
            group.add_command(command, name)
    return group


class KitCli:
    """cli(*args, input=None) -> click.testing.Result; runs against the test's `mill`."""

    def __init__(self, mill: Ordermill) -> None:
        self.mill = mill
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli_group(self.mill), list(args), input=input,
                                  obj={"mill": self.mill}, catch_exceptions=False)


@pytest.fixture
def cli(mill: Ordermill) -> KitCli:
    return KitCli(mill)


__all__ = ["AdminClient", "KitCli", "KitClient", "admin_client", "admin_login", "api_client",
           "api_token", "builtin_plugin_names", "cli", "cli_group", "deliver_webhook",
           "plugin_choice", "pytest_addoption", "remember_installed_plugins"]
