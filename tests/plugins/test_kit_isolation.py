"""The kit's isolation marker: which plugins a test's `mill` loads, and failures naming the
plugin (tests/plugins/test_kit_dists.py proves it with really installed distributions)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.api import InvalidInput, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.testing_kit import builtin_plugin_names, plugin_choice, plugin_object_name


class Refuser:
    PLUGIN = "refuser"

    @hookimpl
    def validate_order(self, order: Any, ctx: Any) -> None:
        raise RuntimeError("the VAT table is missing")


def test_without_a_marker_the_built_ins_are_loaded(mill: Ordermill) -> None:
    loaded = {info.name for info in mill.plugins.plugin_infos()}
    assert set(builtin_plugin_names()) <= loaded
    assert {"payment_stripe", "payment_banktransfer"} <= loaded


@pytest.mark.ordermill_plugins(builtins=False)
def test_builtins_false_leaves_the_core_alone(mill: Ordermill) -> None:
    assert mill.plugins.plugin_infos() == []
    assert mill.gateways == {}


@pytest.mark.ordermill_plugins(Refuser())
def test_a_failing_hook_names_its_plugin(make_product: Callable[..., Any],
                                         order_factory: Callable[..., Any]) -> None:
    make_product("MUG")
    with pytest.raises(PluginError) as caught:
        order_factory([("MUG", 1)])
    assert caught.value.plugin == "refuser"
    assert "Plugin 'refuser' failed in validate_order: RuntimeError: the VAT table is " \
           "missing" in caught.value.message


def test_object_names() -> None:
    module = types.ModuleType("shop.plugins.vat")
    assert plugin_object_name(module) == "vat"
    assert plugin_object_name(Refuser()) == "refuser"
    assert plugin_object_name(InvalidInput("x")) == "InvalidInput"


class Node:
    def __init__(self, marker: pytest.Mark | None) -> None:
        self.marker = marker

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.marker


def test_a_name_nobody_installed_fails_the_test(request: pytest.FixtureRequest) -> None:
    marker = pytest.mark.ordermill_plugins("acmepay_typo").mark
    fake = types.SimpleNamespace(config=request.config, node=Node(marker))
    with pytest.raises(pytest.fail.Exception, match="names 'acmepay_typo', but no installed"):
        plugin_choice(fake)  # type: ignore[arg-type]
    named = types.SimpleNamespace(config=request.config,
                                  node=Node(pytest.mark.ordermill_plugins("restock").mark))
    blocked, objects = plugin_choice(named)  # type: ignore[arg-type]
    assert "restock" not in blocked and objects == []


def test_api_token_reuses_a_user_the_tokens_fixture_made(
        tokens: dict[str, str], api_token: Callable[..., str], api_client: Any) -> None:
    fresh = api_token("viewer")
    assert fresh != tokens["viewer"]
    assert api_client.get("/api/v1/orders", token=fresh).status_code == 200
    assert api_client.get("/api/v1/orders", token=tokens["viewer"]).status_code == 200
    assert api_token("viewer") == fresh
