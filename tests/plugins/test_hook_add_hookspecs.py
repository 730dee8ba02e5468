"""Plugins own hookspecs: `add_hookspecs(pm)`, loading in three steps so order never matters,
optional implementations of an absent plugin's hook, and the errors that name a plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hookkit import DHL, SHIPPING, FakeSite, install_shipping, site  # noqa: F401

from ordermill import hookimpl
from ordermill.cli import main
from ordermill.core.errors import PluginConflict, PluginLoadError
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.hookspecs import after_commit, hookspec, in_transaction


def host_settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env=env, database_url=f"sqlite:///{tmp_path / 'unused.sqlite'}",
                             instance_path=tmp_path)


def loaded(host: PluginHost) -> set[str]:
    return {info.name for info in host.plugin_infos()}


@pytest.mark.parametrize("dhl_first", [True, False], ids=["implementer-first", "owner-first"])
def test_hook_add_hookspecs_load_order_never_matters(
    tmp_path: Path, site: FakeSite, dhl_first: bool,  # noqa: F811
) -> None:
    shipping, dhl = install_shipping(site, dhl_first=dhl_first)
    host = PluginHost(host_settings(tmp_path))

    order = [name for name in host.implementers("shipping_carriers")]
    assert set(order) == {shipping, dhl}
    assert sorted(v for vs in host.call("shipping_carriers").values for v in vs) == [
        "dhl", "post"]
    # firstresult and tryfirst hold for a plugin's hook as for the core's
    assert host.call("shipping_label_price", weight=100).first_plugin == dhl
    assert host.spec_owner("shipping_carriers") == shipping


def test_hook_add_hookspecs_optional_implementation_of_a_blocked_plugin_is_never_called(
    tmp_path: Path, site: FakeSite,  # noqa: F811
) -> None:
    shipping, dhl = install_shipping(site)
    host = PluginHost(host_settings(tmp_path, ORDERMILL_BLOCK_PLUGINS=shipping))

    assert dhl in loaded(host) and shipping not in loaded(host)
    assert not host.pm.hook.shipping_carriers.has_spec()
    info = {info.name: info for info in host.plugin_infos()}[dhl]
    assert "shipping_carriers" in info.hooks  # listed, governed, never called

    host = PluginHost(host_settings(tmp_path, ORDERMILL_LOAD_PLUGINS=dhl))
    assert loaded(host) == {dhl}


def test_a_required_implementation_of_an_absent_plugins_hook_stops_start_up(
    tmp_path: Path, site: FakeSite,  # noqa: F811
) -> None:
    name = site.install("ups", """
        from ordermill import hookimpl


        @hookimpl
        def shipping_carriers():
            return ["ups"]
    """, version="2.1")

    with pytest.raises(PluginLoadError) as failed:
        PluginHost(host_settings(tmp_path))
    assert f"{name} ({site.dist('ups')} 2.1)" in failed.value.message
    assert "unknown hook 'shipping_carriers'" in failed.value.message


def test_a_misspelt_core_hook_still_fails_with_a_suggestion_when_plugins_add_hooks(
    tmp_path: Path, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    site.install("typo", """
        from ordermill import hookimpl


        @hookimpl(optionalhook=False)
        def on_acept(order):
            pass
    """)
    with pytest.raises(PluginLoadError, match="Did you mean 'on_accept'"):
        PluginHost(host_settings(tmp_path))


def test_a_misspelt_plugin_hook_gets_a_suggestion_too(
    tmp_path: Path, site: FakeSite,  # noqa: F811
) -> None:
    install_shipping(site)
    site.install("typo", """
        from ordermill import hookimpl


        @hookimpl
        def shipping_carrier():
            return ["x"]
    """)
    with pytest.raises(PluginLoadError, match="Did you mean 'shipping_carriers'"):
        PluginHost(host_settings(tmp_path))


def test_two_plugins_defining_one_hook_conflict_naming_both(
    tmp_path: Path, site: FakeSite,  # noqa: F811
) -> None:
    shipping, _dhl = install_shipping(site)
    rival = site.install("rival", """
        from ordermill import hookimpl
        from ordermill.hookspecs import hookspec, register_hook


        class Specs:
            @hookspec
            @register_hook
            def shipping_carriers(self, settings):
                '''Register hook of the rival plugin.'''


        @hookimpl
        def add_hookspecs(pm):
            pm.add_hookspecs(Specs)
    """, version="3.0")

    with pytest.raises(PluginConflict) as conflict:
        PluginHost(host_settings(tmp_path))
    message = conflict.value.message
    assert "hook 'shipping_carriers'" in message
    assert f"{shipping} ({site.dist('shipping')} 1.0)" in message
    assert f"{rival} ({site.dist('rival')} 3.0)" in message


def test_a_plugin_cannot_redefine_a_core_hook(tmp_path: Path) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Specs:
        @hookspec
        @in_transaction
        def validate_order(self, order: Any) -> None:
            """In-transaction hook, again."""

    class Hijack:
        @hookimpl
        def add_hookspecs(self, pm: Any) -> None:
            pm.add_hookspecs(Specs)

    with pytest.raises(PluginConflict, match=r"'validate_order'.*ordermill \(core\) and hijack"):
        host.register(Hijack(), "hijack")
    assert not host.pm.has_plugin("hijack")


def test_an_implementation_with_an_argument_the_plugin_hook_lacks_names_the_implementer(
    tmp_path: Path,
) -> None:
    host = PluginHost(host_settings(tmp_path), load_entry_points=False)

    class Specs:
        @hookspec
        @after_commit
        def on_parcel_shipped(self, code: str) -> None:
            """After-commit hook."""

    class Owner:
        @hookimpl
        def add_hookspecs(self, pm: Any) -> None:
            pm.add_hookspecs(Specs)

    class Wrong:
        @hookimpl(optionalhook=True)
        def on_parcel_shipped(self, code: str, weight: int) -> None:
            pass

    with pytest.raises(PluginLoadError, match=r"(?s)'wrong'.*weight"):
        host.register_all([(Wrong(), "wrong"), (Owner(), "owner")])
    assert loaded(host) == set()  # all or none
    host.register(Owner(), "owner")  # the failed batch left no spec behind
    assert host.spec_owner("on_parcel_shipped") == "owner"


def test_ordermill_plugins_lists_plugin_hooks_and_honours_blocking(
    tmp_path: Path, site: FakeSite, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    shipping, dhl = install_shipping(site)
    env = {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
           "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}
    result = CliRunner().invoke(main, ["plugins", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    plugins = {item["name"]: item for item in (data["plugins"] if isinstance(data, dict)
                                              else data)}
    assert plugins[dhl]["hooks"] == ["shipping_carriers", "shipping_label_price"]
    assert "add_hookspecs" in plugins[shipping]["hooks"]

    blocked = CliRunner().invoke(main, ["plugins", "--json"],
                                 env={**env, "ORDERMILL_BLOCK_PLUGINS": shipping})
    assert blocked.exit_code == 0, blocked.output
    names = {item["name"] for item in json.loads(blocked.output)["plugins"]}
    assert shipping not in names and dhl in names
