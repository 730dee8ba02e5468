"""Every hook has a test (as datasette's test_plugin_hooks_have_tests does).

A hook counts as tested when some test function anywhere under tests/ is named
`test_hook_<hook name>` or `test_hook_<hook name>_<what it shows>`, e.g.
`test_hook_on_accept_gets_the_accept_options`. When one hook's name starts with another's
(`on_fraud` and `on_fraud_checked`), a test counts for the longest hook name it matches.
The tests themselves live in tests/plugins/test_hook_calls.py.
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import pytest

from ordermill import hookspecs

TESTS = Path(__file__).resolve().parents[1]


def hook_names() -> list[str]:
    return sorted(
        name for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, "ordermill_spec")
    )


@functools.cache
def collect_test_function_names() -> frozenset[str]:
    """Names of every `test_hook_*` function under tests/ (parsed once per run)."""
    names: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and node.name.startswith("test_hook_"))
    return frozenset(names)


def hook_tested_by(test_name: str, hooks: list[str]) -> str | None:
    """The hook a `test_hook_...` function is about: the longest hook name it starts with."""
    rest = test_name.removeprefix("test_hook_")
    matches = [hook for hook in hooks if rest == hook or rest.startswith(f"{hook}_")]
    return max(matches, key=len) if matches else None


def test_longest_hook_name_wins() -> None:
    hooks = ["on_fraud", "on_fraud_checked"]
    assert hook_tested_by("test_hook_on_fraud_checked_gets_results", hooks) == "on_fraud_checked"
    assert hook_tested_by("test_hook_on_fraud_fires", hooks) == "on_fraud"
    assert hook_tested_by("test_hook_on_fraud", hooks) == "on_fraud"
    assert hook_tested_by("test_hook_on_frau", hooks) is None


@pytest.mark.parametrize("hook", hook_names())
def test_plugin_hooks_have_tests(hook: str) -> None:
    hooks = hook_names()
    tested = {hook_tested_by(name, hooks) for name in collect_test_function_names()}
    assert hook in tested, (
        f"Plugin hook {hook!r} is missing tests: add a test named `test_hook_{hook}_...` that "
        f"registers a plugin implementing it (register_plugin), runs the real action and "
        f"checks the hook's arguments and effect (see tests/plugins/test_hook_calls.py)."
    )
