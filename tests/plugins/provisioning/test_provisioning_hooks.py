"""Provisioning modules come from the hook the provisioning plugin defines
(`register_provisioning_modules`, added with add_hookspecs), per app: the built-in webhook and
etickets modules are plugins of their own, a third party's module is found by entry point, a
duplicate name names both plugins, and blocking a plugin takes its modules (or, for
`provisioning` itself, its routes) away."""

from __future__ import annotations

import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import select

from ordermill.api import ConfigurationError, PluginConflict, PluginError, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ProvisionedService, registry
from ordermill.plugins.provisioning.specs import (
    ModuleResult,
    ProvisioningModuleSpec,
    RegistrarSpec,
    ServiceRequest,
)
from ordermill.testing import order_request
from ordermill.web import create_app

DOCS = Path(__file__).resolve().parents[3] / "docs" / "hooks.md"
BUILT_IN = ("provisioning_etickets", "provisioning_webhook")


def _noop(request: ServiceRequest) -> ModuleResult:
    return ModuleResult(message=f"{request.command} done")


def app_with(mill: Ordermill, **settings: Any) -> Ordermill:
    """Another app on the same database, with other plugin choices."""
    chosen = attrs.evolve(mill.settings, **settings)
    return Ordermill(chosen, plugins=PluginHost(chosen), engine=mill.engine)


class Recorder:
    """A plugin giving an in-transaction module that records the commands it runs."""

    def __init__(self, name: str = "probe") -> None:
        self.calls: list[tuple[str, str]] = []
        self.name = name

    def _run(self, request: ServiceRequest) -> ModuleResult:
        self.calls.append((request.command, request.sku))
        return ModuleResult(remote_id=f"probe-{request.service_id}")

    @hookimpl(optionalhook=True)
    def register_provisioning_modules(self, settings: Any) -> list[ProvisioningModuleSpec]:
        assert settings.secret_key  # the register hook gets the app's settings
        return [ProvisioningModuleSpec(self.name, "Probe panel", create=self._run,
                                       terminate=self._run, in_transaction=True)]


def test_hook_register_provisioning_modules_provisions_with_a_plugins_module(
        mill: Ordermill, staff: Actor, register_plugin: Callable[..., Any],
        make_product: Callable[..., Any]) -> None:
    recorder = Recorder()
    register_plugin(recorder, name="probe-panel")
    assert set(registry.modules(mill)) == {"etickets", "probe", "webhook"}
    assert mill.plugins.dispatch("register_provisioning_modules")[0].kind == "register"
    make_product("PROBE", price=500, stock=None, kind="service",
                 provisioning_module="probe", auto_activate="on_order")

    number = mill.orders.place(order_request([LineRequest(sku="PROBE")]),
                               actor=staff).order.number

    assert recorder.calls == [("create", "PROBE")]
    with mill.read_session() as session:
        [service] = session.scalars(select(ProvisionedService))
    assert (service.order_number, service.module, service.status, service.remote_id) == (
        number, "probe", "active", f"probe-{service.id}")
    mill.orders.cancel(number, actor=staff)
    assert recorder.calls[-1] == ("terminate", "PROBE")


def test_the_built_in_modules_are_plugins_of_their_own(mill: Ordermill) -> None:
    infos = {info.name: info for info in mill.plugins.plugin_infos()}
    for name in BUILT_IN:
        assert infos[name].hooks == ("register_provisioning_modules",)
        assert infos[name].distribution == "ordermill"
    assert mill.plugins.spec_owner("register_provisioning_modules") == "provisioning"
    assert set(mill.plugins.implementers("register_provisioning_modules")) == set(BUILT_IN)
    installed = registry.installed(mill)
    assert list(installed.modules) == ["etickets", "webhook"]
    assert list(installed.registrars) == ["webhook"]


def test_a_duplicate_module_name_fails_naming_both_plugins(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Impostor:
        @hookimpl(optionalhook=True)
        def register_provisioning_modules(self) -> list[ProvisioningModuleSpec]:
            return [ProvisioningModuleSpec("webhook", "Another webhook", create=_noop,
                                           terminate=_noop)]

    register_plugin(Impostor(), name="impostor")
    with pytest.raises(PluginConflict) as refused:
        registry.modules(mill)
    message = refused.value.message
    assert "provisioning module 'webhook'" in message
    assert "provisioning_webhook (ordermill " in message and "impostor" in message
    with pytest.raises(PluginConflict):
        create_app(mill)  # the app is not made with a conflict in it


def test_a_registrar_may_share_a_modules_name_but_not_another_registrars(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Registrars:
        @hookimpl(optionalhook=True)
        def register_provisioning_modules(self) -> list[RegistrarSpec]:
            return [RegistrarSpec("etickets", "Odd but allowed", register=_noop,
                                  transfer=_noop),
                    RegistrarSpec("webhook", "Clash", register=_noop, transfer=_noop)]

    register_plugin(Registrars(), name="registrars")
    with pytest.raises(PluginConflict, match="provisioning registrar 'webhook'"):
        registry.installed(mill)


def test_something_that_is_no_spec_is_an_error_naming_the_plugin(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Sloppy:
        @hookimpl(optionalhook=True)
        def register_provisioning_modules(self) -> list[Any]:
            return [{"name": "dict-module"}]

    register_plugin(Sloppy(), name="sloppy")
    with pytest.raises(PluginError) as refused:
        registry.modules(mill)
    assert refused.value.plugin == "sloppy"
    assert "not a ProvisioningModuleSpec or RegistrarSpec" in refused.value.message


def test_modules_are_read_per_app_and_never_leak_between_apps(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    other = app_with(mill)
    register_plugin(Recorder("only-here"), name="only-here")
    assert "only-here" in registry.modules(mill)
    assert "only-here" not in registry.modules(other)
    no_webhook = app_with(mill, block_plugins=("provisioning_webhook",))
    assert set(registry.modules(no_webhook)) == {"etickets"}
    assert registry.registrars(no_webhook) == {}
    assert set(registry.modules(mill)) == {"etickets", "only-here", "webhook"}


def test_blocking_provisioning_leaves_its_module_plugins_loaded_and_harmless(
        mill: Ordermill) -> None:
    blocked = app_with(mill, block_plugins=("provisioning",))
    names = {info.name for info in blocked.plugins.plugin_infos()}
    assert "provisioning" not in names and set(BUILT_IN) <= names  # loaded, never called
    assert not registry.loaded(blocked)
    with pytest.raises(ConfigurationError, match="provisioning plugin is not loaded"):
        registry.modules(blocked)
    assert "provisioning.command" not in blocked.job_handlers


def test_without_the_etickets_plugin_ticket_lines_provision_nothing(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> None:
    no_tickets = app_with(mill, block_plugins=("provisioning_etickets",))
    make_product("GIG", price=3000, stock=10, kind="ticket")
    placed = no_tickets.orders.place(order_request([LineRequest(sku="GIG")]), actor=staff)
    paid = no_tickets.orders.mark_paid(placed.order.number, actor=staff)
    assert paid.event is not None and "provisioning" not in (paid.event.data or {})
    with mill.read_session() as session:
        assert session.scalars(select(ProvisionedService)).all() == []


# ---------------------------------------------------------------------------- by entry point

ACME = """
from ordermill.api import hookimpl
from ordermill.plugins.provisioning.specs import ModuleResult, ProvisioningModuleSpec


def create(request):
    return ModuleResult(remote_id=f"acme-{request.service_id}")


@hookimpl(optionalhook=True)
def register_provisioning_modules():
    return [ProvisioningModuleSpec("{name}", "Acme panel", create=create, terminate=create)]
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """install(dist, module name) -> the entry point: a distribution in a folder on sys.path
    (module + dist-info with an `ordermill` entry point), as pip leaves it."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    tag = uuid.uuid4().hex[:8]
    modules: list[str] = []

    def add(dist: str, module_name: str, version: str = "2.0") -> str:
        module = f"om_{dist.replace('-', '_')}_{tag}"
        (site / f"{module}.py").write_text(ACME.replace("{name}", module_name))
        info = site / f"{dist.replace('-', '_')}_{tag}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}-{tag}\n"
                                       f"Version: {version}\n")
        (info / "entry_points.txt").write_text(f"[ordermill]\n{dist}_{tag} = {module}\n")
        modules.append(module)
        return f"{dist}_{tag}"

    yield add
    for module in modules:
        sys.modules.pop(module, None)


def test_hook_register_provisioning_modules_of_an_installed_distribution(
        mill: Ordermill, install: Callable[..., str]) -> None:
    acme = install("acme-panel", "acme")
    loaded = app_with(mill)
    assert set(registry.modules(loaded)) == {"acme", "etickets", "webhook"}
    [info] = [info for info in loaded.plugins.plugin_infos() if info.name == acme]
    assert info.hooks == ("register_provisioning_modules",) and info.version == "2.0"
    assert "acme" not in registry.modules(app_with(mill, block_plugins=(acme,)))
    only = app_with(mill, load_plugins=("provisioning", acme))
    assert set(registry.modules(only)) == {"acme"}
    without = app_with(mill, block_plugins=("provisioning",))
    assert acme in {info.name for info in without.plugins.plugin_infos()}  # harmless


def test_a_distribution_taking_a_built_in_name_fails_naming_both_distributions(
        mill: Ordermill, install: Callable[..., str]) -> None:
    rogue = install("rogue-hooks", "webhook", version="0.3")
    with pytest.raises(PluginConflict) as refused:
        registry.modules(app_with(mill))
    message = refused.value.message
    assert f"{rogue} (rogue-hooks-" in message and " 0.3)" in message
    assert "provisioning_webhook (ordermill " in message


# ---------------------------------------------------------------------------- the manual


def plugin_hook_sections() -> dict[str, tuple[str, list[str]]]:
    """{hook: (argument list, python blocks)} of docs/hooks.md's "Hooks defined by plugins"."""
    text = DOCS.read_text(encoding="utf-8")
    part = text.split("\n## Hooks defined by plugins", 1)[1].split("\n## ", 1)[0]
    headings = list(re.finditer(r"^#### (\w+)\((.*)\)\s*$", part, re.MULTILINE))
    found = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(part)
        blocks = re.findall(r"```python\n(.*?)```", part[heading.end():end], re.DOTALL)
        found[heading.group(1)] = (heading.group(2), blocks)
    return found


def test_every_hook_of_the_plugin_is_documented_with_its_arguments(mill: Ordermill) -> None:
    """Provisioning's hook, and those of the other built-ins that define hooks (the section
    documents them all)."""
    from ordermill.plugins.notify_email import hookspecs as notify_hookspecs
    from ordermill.plugins.provisioning import hookspecs
    from ordermill.plugins.reports import hookspecs as report_hookspecs
    from ordermill.plugins.subscriptions import hookspecs as subscription_hookspecs

    names = (*hookspecs.HOOK_NAMES, *notify_hookspecs.HOOK_NAMES,
             *subscription_hookspecs.HOOK_NAMES, *report_hookspecs.HOOK_NAMES)
    sections = plugin_hook_sections()
    assert set(sections) == set(names)
    for name in names:
        spec = getattr(mill.plugins.pm.hook, name).spec
        assert sections[name][0] == ", ".join(spec.argnames)
        dispatch, _first = mill.plugins.dispatch(name)
        assert f"{dispatch.kind} hook" in (spec.function.__doc__ or "").lower()


def test_hook_register_provisioning_modules_documented_example_runs(
        mill: Ordermill, register_plugin: Callable[..., Any], tmp_path: Path) -> None:
    [block] = plugin_hook_sections()["register_provisioning_modules"][1][:1]
    module = types.ModuleType("docs_provisioning_example")
    module.__file__ = str(tmp_path / "docs_provisioning_example.py")
    exec(compile(block, module.__file__, "exec"), module.__dict__)
    register_plugin(module, name="docs-example")
    installed = registry.installed(mill)
    added = {name for name in [*installed.modules, *installed.registrars]} - {
        "etickets", "webhook"}
    assert added, "the example registers no module"
    for name in added:
        spec = installed.modules.get(name) or installed.registrars[name]
        assert isinstance(spec, ProvisioningModuleSpec | RegistrarSpec)


def test_placing_reads_no_product_again_for_provisioning(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> None:
    """The planner finds the placement's priced products in the transaction's identity map:
    a ticket or a module's product costs the provisioning plugin no statement to place."""
    from ordermill.testing_bench import statements_of

    make_product("GIG", price=3000, stock=10, kind="ticket")
    make_product("HOST", price=3000, stock=None, kind="service", provisioning_module="webhook")
    for sku in ("GIG", "HOST"):
        counts = statements_of(mill, lambda sku=sku: mill.orders.place(
            order_request([LineRequest(sku=sku)]), actor=staff), skip_savepoints=True)
        assert "plugin:provisioning" not in counts, (sku, counts)
