"""The test run's shared URL rules (ordermill.testing_routes) behave as werkzeug's own."""

from __future__ import annotations

import pytest
from werkzeug.routing import Map
from werkzeug.routing.rules import Rule

from ordermill import testing_routes
from ordermill.core.app import Ordermill
from ordermill.web import create_app


def test_an_apps_rules_are_those_werkzeug_compiles_afresh(
        mill: Ordermill, monkeypatch: pytest.MonkeyPatch) -> None:
    create_app(mill, {"TESTING": True})  # the first app fills the shared cache
    shared = create_app(mill, {"TESTING": True}).url_map
    assert Rule.compile is testing_routes._compile_once  # the plugin turned sharing on
    monkeypatch.setattr(Rule, "compile", testing_routes._ORIGINAL_COMPILE)
    monkeypatch.setattr(Rule, "_compile_builder", testing_routes._ORIGINAL_BUILDER)
    fresh = Map([rule.empty() for rule in shared.iter_rules()],
                converters=shared.converters, strict_slashes=shared.strict_slashes)

    pairs = list(zip(shared.iter_rules(), fresh.iter_rules(), strict=True))
    assert len(pairs) > 100 and any(rule.arguments for rule, _ in pairs)
    shared_urls, fresh_urls = shared.bind("shop.test"), fresh.bind("shop.test")
    for rule, again in pairs:
        assert (rule.rule, rule._parts, rule._trace, rule.arguments) == (
            again.rule, again._parts, again._trace, again.arguments)
        assert {name: (type(conv), conv.regex) for name, conv in rule._converters.items()} \
            == {name: (type(conv), conv.regex) for name, conv in again._converters.items()}
        assert all(conv.map is shared for conv in rule._converters.values())
        values = dict.fromkeys(rule.arguments, "7")  # every converter takes "7"
        method = sorted(rule.methods or {"GET"})[0]
        built = shared_urls.build(rule.endpoint, values, method=method)
        assert built == fresh_urls.build(again.endpoint, values, method=method)
