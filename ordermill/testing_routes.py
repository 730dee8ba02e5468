"""Faster app building for test runs: werkzeug's URL rules, parsed and compiled once per shape.

Binding a URL rule costs werkzeug two steps, both paid again by every test that makes an app
(about 150 rules each): parsing the rule's text into regex parts (`Rule._parse_rule`), and
compiling two small Python functions (through `ast` and `compile`) that build its URLs. Both
depend only on the rule's text, its domain part, the map's converter classes and, for the
builders, its defaults; the converter objects themselves belong to each map. So a test process
keeps, per such key, the parsed parts, the trace and the converter calls, and per builder key
the compiled function, and binds them to each new rule as werkzeug would with fresh ones. Only
the pytest plugin (ordermill.testing) turns this on; a served app compiles its rules once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_BUILDERS: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}
_PARSED: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]] = {}
_ORIGINAL_BUILDER = Rule._compile_builder
_ORIGINAL_COMPILE = Rule.compile


def _builder_key(rule: Rule, append_unknown: bool) -> tuple[Any, ...]:
    defaults = rule.defaults or {}
    return (rule.rule, tuple(rule._trace), append_unknown,
            tuple((name, repr(value), type(rule._converters.get(name)).__qualname__)
                  for name, value in sorted(defaults.items())))


def _compile_builder_once(self: Rule, append_unknown: bool = True
                          ) -> Callable[..., tuple[str, str]]:
    key = _builder_key(self, append_unknown)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _ORIGINAL_BUILDER(self, append_unknown)
    return builder


def _parse_key(rule: Rule) -> tuple[Any, ...]:
    rules_map = rule.map
    assert rules_map is not None, "rule not bound"
    domain = rule.host if rules_map.host_matching else rule.subdomain
    return (rule.rule, domain, rules_map.host_matching, rule.merge_slashes,
            tuple(sorted(rules_map.converters.items())))


def _compile_once(self: Rule) -> None:
    key = _parse_key(self)
    parsed = _PARSED.get(key)
    if parsed is None:
        calls: list[tuple[Any, ...]] = []
        get_converter = self.get_converter

        def recording(variable: str, name: str, args: tuple[Any, ...],
                      kwargs: Any) -> Any:
            calls.append((variable, name, args, dict(kwargs)))
            return get_converter(variable, name, args, kwargs)

        self.get_converter = recording  # type: ignore[method-assign]
        try:
            _ORIGINAL_COMPILE(self)
        finally:
            del self.get_converter
        _PARSED[key] = (tuple(self._parts), tuple(self._trace), tuple(calls))
        return
    parts, trace, calls = parsed
    self._parts, self._trace, self._converters = list(parts), list(trace), {}
    for variable, name, args, kwargs in calls:
        self._converters[variable] = self.get_converter(variable, name, args, kwargs)
        self.arguments.add(variable)
    self._build = self._compile_builder(False).__get__(self, None)
    self._build_unknown = self._compile_builder(True).__get__(self, None)


def share_url_builders() -> None:
    """Make werkzeug reuse parsed rules and compiled URL builders in this process
    (idempotent)."""
    Rule._compile_builder = _compile_builder_once  # type: ignore[method-assign]
    Rule.compile = _compile_once  # type: ignore[method-assign]
