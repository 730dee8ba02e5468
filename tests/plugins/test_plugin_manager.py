"""The plugin manager's loading rules: misspelt hooks, conflicts, choosing, blocking and
tracing plugins, and plugins that fail to import.

Entry-point plugins here are real distributions: each test writes a module and its
`<name>.dist-info` (METADATA + entry_points.txt) into a directory put on sys.path, which is
exactly what importlib.metadata reads for an installed package.
"""

from __future__ import annotations

import logging
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginConflict, PluginLoadError
from ordermill.core.models import Order, Product
from ordermill.core.plugins import LoadFailure, PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor, JobHandlerSpec
from ordermill.core.statuses import StatusSpec
from ordermill.testing import order_request

Register = Callable[..., object]

GATEWAY_PLUGIN = """
from ordermill import hookimpl
from ordermill.core.specs import PaymentGatewaySpec


@hookimpl
def register_payment_gateways(settings):
    return [PaymentGatewaySpec("acme", "Acme Pay ({label})")]
"""


def host_settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env=env, database_url=f"sqlite:///{tmp_path / 'unused.sqlite'}",
                             instance_path=tmp_path)


class FakeSite:
    """Installs tiny distributions with `ordermill` entry points into a sys.path directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []
        self.tag = uuid.uuid4().hex[:8]

    def install(self, dist: str, source: str, *, version: str = "1.0",
                entry_point: str | None = None) -> str:
        """Write module + dist-info; returns the entry-point name (unique to this test)."""
        module = f"om_fake_{dist.replace('-', '_')}_{self.tag}"
        name = entry_point or f"{dist}-{self.tag}"
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        info = self.root / f"{dist.replace('-', '_')}_{self.tag}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}-{self.tag}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[ordermill]\n{name} = {module}\n")
        self.modules.append(module)
        return name

    def dist(self, dist: str) -> str:
        return f"{dist}-{self.tag}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    fake = FakeSite(root)
    yield fake
    for module in fake.modules:
        sys.modules.pop(module, None)


def loaded(host: PluginHost) -> set[str]:
    return {info.name for info in host.plugin_infos()}


# ================================================================== misspelt hooks


def test_a_misspelt_hook_fails_at_registration_with_a_suggestion(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Typo:
        @hookimpl
        def on_acept(self, order: Order) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginLoadError) as failed:
        host.register(Typo(), "provisioning-typo")

    message = failed.value.message
    assert "'provisioning-typo'" in message and "'on_acept'" in message
    assert "Did you mean 'on_accept'?" in message
    assert not host.pm.has_plugin("provisioning-typo")  # nothing half-registered
    assert "provisioning-typo" not in loaded(host)
    host.pm.check_pending()  # the manager is clean for the next plugin


def test_a_misspelt_hook_in_an_installed_plugin_stops_start_up(
    tmp_path: Path, site: FakeSite,
) -> None:
    name = site.install("ordermill-typo", """
        from ordermill import hookimpl


        @hookimpl
        def on_refnd(order, ctx):
            pass
    """, version="0.3")

    with pytest.raises(PluginLoadError) as failed:
        PluginHost(host_settings(tmp_path))

    assert f"{name} ({site.dist('ordermill-typo')} 0.3)" in failed.value.message
    assert "Did you mean 'on_refund'?" in failed.value.message


def test_an_argument_the_hook_does_not_have_fails_registration(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class WrongArgument:
        @hookimpl
        def on_accept(self, order: Order, opts: dict[str, Any]) -> None:
            pass

        @hookimpl
        def on_cancel(self, order: Order) -> None:
            pass

    with pytest.raises(PluginLoadError) as failed:
        host.register(WrongArgument(), "wrong-argument")

    assert "'wrong-argument'" in failed.value.message and "opts" in failed.value.message
    assert not host.pm.has_plugin("wrong-argument")
    assert host.pm.hook.on_cancel.get_hookimpls() == []  # no half-registered hook left


def test_hook_wrappers_are_refused_rather_than_silently_ignored(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Wrapper:
        @hookimpl(wrapper=True)
        def on_accept(self, order: Order) -> Iterator[None]:
            return (yield)

    with pytest.raises(PluginLoadError, match="wrapper"):
        host.register(Wrapper(), "wrapper")
    assert not host.pm.has_plugin("wrapper")


def test_optional_hooks_of_newer_ordermill_versions_are_allowed(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Future:
        @hookimpl(optionalhook=True)
        def on_something_new(self, order: Order) -> None:
            pass

    host.register(Future(), "future")
    assert "future" in loaded(host)


# ================================================================== conflicts


def test_two_installed_plugins_with_one_gateway_name_conflict_naming_both(
    mill: Ordermill, site: FakeSite, staff: Actor, make_product: Callable[..., Product],
) -> None:
    first = site.install("acme-one", GATEWAY_PLUGIN.format(label="one"), version="1.2")
    second = site.install("acme-two", GATEWAY_PLUGIN.format(label="two"), version="2.0")
    app = Ordermill(mill.settings, plugins=PluginHost(mill.settings), engine=mill.engine)
    make_product("TSHIRT")

    with pytest.raises(PluginConflict) as conflict:
        app.orders.place(order_request([("TSHIRT", 1)], payment_method="acme"), actor=staff)

    message = conflict.value.message
    assert "payment gateway 'acme'" in message
    assert f"{first} ({site.dist('acme-one')} 1.2)" in message
    assert f"{second} ({site.dist('acme-two')} 2.0)" in message
    assert set(conflict.value.details["plugins"]) == {first, second}


def test_two_plugins_with_one_status_name_conflict_naming_both(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Shipping:
        def __init__(self, label: str) -> None:
            self.label = label

        @hookimpl
        def register_statuses(self) -> Iterable[StatusSpec]:
            return [StatusSpec("awaiting_shipment", self.label, "active",
                               reachable_from={"active"})]

    register_plugin(Shipping("Awaiting shipment"), name="shipping-a")
    register_plugin(Shipping("Waiting for courier"), name="shipping-b")

    with pytest.raises(PluginConflict) as conflict:
        mill.statuses.get("awaiting_shipment")

    message = conflict.value.message
    assert "status 'awaiting_shipment'" in message
    assert "shipping-a" in message and "shipping-b" in message


def test_a_plugin_cannot_take_over_a_built_in_status(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Hijack:
        @hookimpl
        def register_statuses(self) -> Iterable[StatusSpec]:
            return [StatusSpec("active", "Live", "active")]

    register_plugin(Hijack(), name="hijack")
    with pytest.raises(PluginConflict, match=r"ordermill \(built-in\).*hijack"):
        mill.statuses.get("active")


def test_two_plugins_handling_one_job_kind_conflict(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Mailer:
        @hookimpl
        def register_job_handlers(self) -> Iterable[JobHandlerSpec]:
            return [JobHandlerSpec("email.send", lambda **_: None)]

    register_plugin(Mailer(), name="mailer-one")
    register_plugin(Mailer(), name="mailer-two")
    with pytest.raises(PluginConflict) as conflict:
        mill.job_handlers.get("email.send")
    assert "job kind 'email.send'" in conflict.value.message
    assert "mailer-one" in conflict.value.message and "mailer-two" in conflict.value.message


def test_a_register_hook_returning_something_else_names_the_plugin(
    mill: Ordermill, register_plugin: Register,
) -> None:
    from ordermill.core.errors import PluginError

    class Sloppy:
        @hookimpl
        def register_payment_gateways(self) -> list[str]:
            return ["acme"]

    register_plugin(Sloppy(), name="sloppy")
    with pytest.raises(PluginError, match=r"sloppy.*not a payment gateway spec"):
        mill.gateways.get("acme")


# ================================================================== choosing and blocking


@pytest.fixture
def alpha_beta(site: FakeSite) -> tuple[str, str]:
    hook = """
        from ordermill import hookimpl


        @hookimpl
        def on_accept(order):
            pass
    """
    return site.install("alpha", hook), site.install("beta", hook)


def test_load_plugins_loads_only_the_chosen_entry_points(
    tmp_path: Path, alpha_beta: tuple[str, str],
) -> None:
    alpha, _beta = alpha_beta
    host = PluginHost(host_settings(tmp_path, ORDERMILL_LOAD_PLUGINS=f"{alpha}, restock"))
    assert loaded(host) == {alpha, "restock"}

    host = PluginHost(host_settings(tmp_path, ORDERMILL_LOAD_PLUGINS=""))
    assert loaded(host) == set()  # an empty list loads no plugin at all


def test_block_plugins_skips_entry_points(tmp_path: Path, alpha_beta: tuple[str, str]) -> None:
    alpha, beta = alpha_beta
    everything = loaded(PluginHost(host_settings(tmp_path)))
    assert {alpha, beta, "restock"} <= everything

    host = PluginHost(host_settings(tmp_path, ORDERMILL_BLOCK_PLUGINS=f"{alpha},restock"))

    assert loaded(host) == everything - {alpha, "restock"}
    assert host.pm.hook.restock.get_hookimpls() == []


def test_entry_point_plugins_report_their_distribution_and_hooks(
    tmp_path: Path, alpha_beta: tuple[str, str], site: FakeSite,
) -> None:
    alpha, _beta = alpha_beta
    host = PluginHost(host_settings(tmp_path))

    class Local:
        @hookimpl
        def on_cancel(self) -> None:
            pass

        @hookimpl
        def on_accept(self) -> None:
            pass

    host.register(Local(), "local", source="test")
    infos = {info.name: info.to_dict() for info in host.plugin_infos()}

    assert infos[alpha] == {"name": alpha, "version": "1.0", "source": "entry point",
                            "distribution": site.dist("alpha"), "hooks": ("on_accept",)}
    assert infos["restock"]["distribution"] == "ordermill"
    assert infos["restock"]["hooks"] == ("restock",)
    assert infos["local"] == {"name": "local", "version": None, "source": "test",
                              "distribution": None, "hooks": ("on_accept", "on_cancel")}


# ================================================================== broken plugins


BROKEN = """
    raise ImportError("ordermill-broken needs libmagic, which is not installed")
"""


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(
    tmp_path: Path, site: FakeSite, alpha_beta: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = site.install("broken", BROKEN, version="0.9")
    missing = site.install("missing", "", version="0.1")
    (site.root / f"{site.modules[-1]}.py").unlink()  # entry point to a module that is gone

    with caplog.at_level(logging.ERROR, logger="ordermill.plugins"):
        host = PluginHost(host_settings(tmp_path))

    failures = {failure.name: failure for failure in host.failures}
    assert failures[broken] == LoadFailure(
        broken, site.dist("broken"),
        "ImportError: ordermill-broken needs libmagic, which is not installed")
    assert failures[missing].error.startswith("ModuleNotFoundError")
    assert set(alpha_beta) | {"restock"} <= loaded(host)  # the others still load
    assert broken not in loaded(host)
    assert any(broken in record.getMessage() for record in caplog.records)


def test_a_plugin_that_fails_to_import_is_fatal_with_strict_plugins(
    tmp_path: Path, site: FakeSite,
) -> None:
    broken = site.install("broken", BROKEN, version="0.9")

    with pytest.raises(PluginLoadError) as failed:
        PluginHost(host_settings(tmp_path, ORDERMILL_STRICT_PLUGINS="1"))

    assert f"Plugin {broken!r} ({site.dist('broken')}) failed to import" in failed.value.message
    assert "libmagic" in failed.value.message
    assert failed.value.details == {"plugin": broken, "distribution": site.dist("broken")}


# ================================================================== order and tracing


def test_tryfirst_and_trylast_order_the_implementations(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Numbers:
        def __init__(self, number: str) -> None:
            self.number = number

    def make(number: str, **options: bool) -> object:
        plugin = Numbers(number)

        @hookimpl(**options)
        def generate_order_number() -> str:
            return plugin.number

        plugin.generate_order_number = generate_order_number  # type: ignore[attr-defined]
        return plugin

    host.register(make("1111111111", tryfirst=True), "first")
    host.register(make("2222222222"), "plain")
    host.register(make("3333333333", trylast=True), "fallback")

    assert host.call("generate_order_number", ctx=None).results[0] == ("first", "1111111111")
    host.unregister("first")
    assert host.call("generate_order_number", ctx=None).results[0] == ("plain", "2222222222")
    host.unregister("plain")
    assert host.call("generate_order_number", ctx=None).results[0] == ("fallback", "3333333333")


def test_trace_plugins_logs_every_hook_call(
    mill: Ordermill, make_product: Callable[..., Product], staff: Actor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Tracer:
        @hookimpl
        def validate_order(self) -> None:
            pass

        @hookimpl
        def on_order_placed(self) -> None:
            pass

    make_product("TSHIRT")
    traced_settings = Settings.from_env(
        env={"ORDERMILL_TRACE_PLUGINS": "true"}, database_url=mill.settings.database_url,
        instance_path=mill.settings.instance_path)
    assert traced_settings.trace_plugins
    quiet = PluginHost(mill.settings, load_entry_points=False)
    quiet.register(Tracer(), "tracer")
    traced = PluginHost(traced_settings, load_entry_points=False)
    traced.register(Tracer(), "tracer")

    with caplog.at_level(logging.INFO, logger="ordermill.plugins"):
        Ordermill(mill.settings, plugins=quiet, engine=mill.engine).orders.place(
            order_request([("TSHIRT", 1)]), actor=staff)
        assert not [r for r in caplog.records if r.getMessage().startswith("hook ")]
        Ordermill(traced_settings, plugins=traced, engine=mill.engine).orders.place(
            order_request([("TSHIRT", 1)]), actor=staff)

    messages = [r.getMessage() for r in caplog.records if r.name == "ordermill.plugins"]
    assert "hook validate_order -> tracer" in messages
    assert "hook on_order_placed -> tracer" in messages
    assert messages.index("hook validate_order -> tracer") < messages.index(
        "hook on_order_placed -> tracer")


def test_settings_read_plugin_choices_from_the_environment(tmp_path: Path) -> None:
    settings = host_settings(tmp_path, ORDERMILL_LOAD_PLUGINS="a, b,,c",
                             ORDERMILL_BLOCK_PLUGINS="d", ORDERMILL_TRACE_PLUGINS="yes",
                             ORDERMILL_STRICT_PLUGINS="on")
    assert settings.load_plugins == ("a", "b", "c")
    assert settings.block_plugins == ("d",)
    assert settings.trace_plugins and settings.strict_plugins
    defaults = host_settings(tmp_path)
    assert defaults.load_plugins is None and defaults.block_plugins == ()
    assert not defaults.trace_plugins and not defaults.strict_plugins

