"""Dispatch is declared once, on the spec: kind tags, HOOK_KINDS read from them, and the one
`PluginHost.call(name, **kwargs)` that applies each spec's policy."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import pytest

from ordermill import hookimpl, hookspecs
from ordermill.core.errors import InvalidInput, PluginError, PluginLoadError
from ordermill.core.plugins import HookFailure, HookOutcome, PluginHost, UnknownHook
from ordermill.core.settings import Settings
from ordermill.hookspecs import (
    Dispatch,
    after_commit,
    dispatch_of,
    hookspec,
    in_transaction,
    register_hook,
)


def make_host(tmp_path: Path) -> PluginHost:
    settings = Settings.from_env(env={}, database_url=f"sqlite:///{tmp_path / 'x.sqlite'}",
                                 instance_path=tmp_path)
    return PluginHost(settings, load_entry_points=False)


def test_hook_kinds_are_read_from_the_kind_tags() -> None:
    specs = dict(hookspecs.declared_specs(vars(hookspecs)))
    assert set(hookspecs.HOOK_KINDS) == set(specs)
    for name, spec in specs.items():
        assert hookspecs.HOOK_KINDS[name] == dispatch_of(spec).kind  # type: ignore[union-attr]
    assert dispatch_of(specs["on_accept"]) == Dispatch("after-commit", "collect")
    assert dispatch_of(specs["validate_order"]) == Dispatch("in-transaction", "raise")
    assert dispatch_of(specs["register_permissions"]) == Dispatch("register", "raise")
    # the two hooks whose errors differ from their kind say so on their spec
    assert dispatch_of(specs["fraud_check"]) == Dispatch("in-transaction", "collect")
    assert dispatch_of(specs["message_attachments"]) == Dispatch("after-commit", "raise")


def test_a_tag_works_bare_and_with_an_error_policy() -> None:
    def bare() -> None: ...

    def collecting() -> None: ...

    assert in_transaction(bare) is bare
    assert after_commit(errors="raise")(collecting) is collecting
    assert dispatch_of(bare) == Dispatch("in-transaction", "raise")
    assert dispatch_of(collecting) == Dispatch("after-commit", "raise")
    assert dispatch_of(test_a_tag_works_bare_and_with_an_error_policy) is None


def test_no_call_site_chooses_a_policy_by_name() -> None:
    """Every caller in ordermill/ uses `call`; the policy is the spec's."""
    root = Path(__file__).resolve().parents[2] / "ordermill"
    old = ("call_in_transaction(", "first_result(", "call_collecting(", "call_after_commit(")
    exempt = ("core/plugins.py",)
    offenders = sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*.py")
        if not path.relative_to(root).as_posix().startswith(exempt)
        and any(name in path.read_text(encoding="utf-8") for name in old))
    assert offenders == []


class Recorder:
    def __init__(self, name: str, calls: list[str], *, fail: bool = False,
                 answer: Any = None) -> None:
        self.name, self.calls, self.fail, self.answer = name, calls, fail, answer

    def run(self) -> Any:
        self.calls.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} broke")
        return self.answer


def plugin_for(hook: str, recorder: Recorder, **options: Any) -> object:
    class Plugin:
        pass

    def implementation(**_kwargs: Any) -> Any:
        return recorder.run()

    implementation.__name__ = hook
    implementation.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
    setattr(Plugin, hook, staticmethod(hookimpl(**options)(implementation)))
    return Plugin()


def test_call_after_commit_hook_collects_failures_and_runs_every_plugin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    host = make_host(tmp_path)
    calls: list[str] = []
    host.register(plugin_for("on_accept", Recorder("a", calls, fail=True)), "a")
    host.register(plugin_for("on_accept", Recorder("b", calls, answer="seen")), "b")

    with caplog.at_level(logging.ERROR, logger="ordermill.plugins"):
        outcome = host.call("on_accept", order=None, options={}, ctx=None)

    assert calls == ["b", "a"]  # last registered first, both run
    assert outcome == HookOutcome("on_accept", (("b", "seen"),),
                                  (HookFailure("a", "on_accept", "RuntimeError: a broke"),))
    assert any("'a' failed in on_accept" in r.getMessage() for r in caplog.records)


def test_call_in_transaction_hook_stops_at_the_first_error_naming_the_plugin(
    tmp_path: Path,
) -> None:
    host = make_host(tmp_path)
    calls: list[str] = []
    host.register(plugin_for("validate_order", Recorder("later", calls)), "later")
    host.register(plugin_for("validate_order", Recorder("broken", calls, fail=True)), "broken")

    with pytest.raises(PluginError, match=r"'broken' failed in validate_order.*broken broke"):
        host.call("validate_order", order=None, ctx=None)
    assert calls == ["broken"]


def test_call_keeps_a_refusal_raised_on_purpose(tmp_path: Path) -> None:
    host = make_host(tmp_path)

    class Refuser:
        @hookimpl
        def validate_order(self) -> None:
            raise InvalidInput("No PO boxes.")

    host.register(Refuser(), "refuser")
    with pytest.raises(InvalidInput) as refused:
        host.call("validate_order", order=None, ctx=None)
    assert refused.value.message == "No PO boxes. (from plugin 'refuser')"


def test_call_firstresult_hook_stops_at_the_first_answer(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    calls: list[str] = []
    host.register(plugin_for("restock", Recorder("fallback", calls, answer=True),
                             trylast=True), "fallback")
    host.register(plugin_for("restock", Recorder("keeper", calls, answer=False)), "keeper")
    host.register(plugin_for("restock", Recorder("abstains", calls)), "abstains")

    outcome = host.call("restock", line=None, quantity=1, ctx=None)

    assert calls == ["abstains", "keeper"]
    assert outcome.first is False and outcome.first_plugin == "keeper"  # False is an answer
    assert outcome.results == (("keeper", False),)


def test_call_fraud_check_collects_as_its_spec_says(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    calls: list[str] = []
    host.register(plugin_for("fraud_check", Recorder("down", calls, fail=True)), "down")
    outcome = host.call("fraud_check", order=None, ctx=None)
    assert [failure.plugin for failure in outcome.failures] == ["down"]


def test_call_message_attachments_raises_as_its_spec_says(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    host.register(plugin_for("message_attachments", Recorder("printer", [], fail=True)),
                  "printer")
    with pytest.raises(PluginError, match="printer"):
        host.call("message_attachments", order=None, message="x", ctx=None)


def test_call_gives_register_hooks_the_hosts_settings(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    seen: list[Settings] = []

    class Gateways:
        @hookimpl
        def register_payment_gateways(self, settings: Settings) -> list[Any]:
            seen.append(settings)
            return []

    host.register(Gateways(), "gateways")
    assert host.call("register_payment_gateways").results == (("gateways", []),)
    assert seen == [host.settings]


def test_call_of_a_name_no_spec_defines_is_an_error(tmp_path: Path) -> None:
    host = make_host(tmp_path)

    class Future:
        @hookimpl(optionalhook=True)
        def on_something_new(self) -> None:
            raise AssertionError("never called")

    host.register(Future(), "future")
    with pytest.raises(UnknownHook, match="on_something_new"):
        host.call("on_something_new")
    with pytest.raises(UnknownHook, match="on_acept"):
        host.call("on_acept", order=None, options={}, ctx=None)


def test_a_plugin_spec_without_a_kind_tag_is_refused(tmp_path: Path) -> None:
    host = make_host(tmp_path)

    class Untagged:
        @hookspec
        def on_parcel(self, order: Any) -> None:
            """No kind."""

    class Owner:
        @hookimpl
        def add_hookspecs(self, pm: Any) -> None:
            pm.add_hookspecs(Untagged)

    with pytest.raises(PluginLoadError, match=r"'owner'.*'on_parcel' without a kind"):
        host.register(Owner(), "owner")
    assert not host.pm.has_plugin("owner")
    assert not hasattr(host.pm.hook, "on_parcel")


def test_plugin_specs_are_called_with_their_tags_policy(tmp_path: Path) -> None:
    host = make_host(tmp_path)

    class Specs:
        @hookspec
        @after_commit
        def on_parcel_shipped(self, code: str) -> None:
            """After-commit hook of the shipping plugin."""

        @hookspec
        @register_hook
        def shipping_zones(self) -> list[str]:
            """Register hook of the shipping plugin."""

    class Shipping:
        @hookimpl
        def add_hookspecs(self, pm: Any) -> None:
            pm.add_hookspecs(Specs)

    class Tracker:
        @hookimpl(optionalhook=True)
        def on_parcel_shipped(self, code: str) -> None:
            raise RuntimeError(f"tracker down for {code}")

        @hookimpl(optionalhook=True)
        def shipping_zones(self) -> list[str]:
            raise RuntimeError("no zones")

    host.register_all([(Tracker(), "tracker"), (Shipping(), "shipping")])

    outcome = host.call("on_parcel_shipped", code="JJD01")
    assert [(f.plugin, f.error) for f in outcome.failures] == [
        ("tracker", "RuntimeError: tracker down for JJD01")]
    with pytest.raises(PluginError, match=r"'tracker' failed in shipping_zones"):
        host.call("shipping_zones")
    assert host.spec_owner("on_parcel_shipped") == "shipping"
    assert host.spec_owner("on_accept") is None
