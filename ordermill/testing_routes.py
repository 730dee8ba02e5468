"""Faster app building for test runs: werkzeug's URL builder code, compiled once per rule shape.

Werkzeug compiles two small Python functions (through `ast` and `compile`) for every URL rule
it binds, so it can build URLs fast. That is most of `create_app`'s cost (about 85 % of its
time for ordermill's ~85 rules), paid again by every test that makes an app. The generated
code depends only on the rule's text, its parsed parts, its defaults and whether unknown
arguments are appended; the converters are looked up on the rule when the builder runs. So
a test process keeps one compiled function per such key and binds it to each new rule, as
werkzeug does with a fresh one. Only the pytest plugin (ordermill.testing) turns this on;
a served app compiles its rules once anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_BUILDERS: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}
_ORIGINAL = Rule._compile_builder


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
        builder = _BUILDERS[key] = _ORIGINAL(self, append_unknown)
    return builder


def share_url_builders() -> None:
    """Make werkzeug reuse compiled URL builders within this process (idempotent)."""
    Rule._compile_builder = _compile_builder_once  # type: ignore[method-assign]
