"""Every hook is documented (as datasette's test_plugin_hooks_are_documented does).

docs/hooks.md needs one section per hookspec, headed with the hook's signature exactly as
plugin authors will write it: `### fraud_check(order, ctx)`. A new hook without a section, or
a hook whose arguments changed without the docs following, fails here.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click
import flask
import pytest

from ordermill import hookspecs
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
HEADING = re.compile(r"^### (\w+)\((.*)\)\s*$", re.MULTILINE)


def hookspec_functions() -> dict[str, Callable[..., Any]]:
    """Every function of ordermill.hookspecs marked as a pluggy hookspec of `ordermill`."""
    return {
        name: value for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, "ordermill_spec")
    }


def documented() -> dict[str, str]:
    """{hook name: argument list} of every `### name(args)` heading in docs/hooks.md."""
    return {name: args for name, args in HEADING.findall(DOCS.read_text(encoding="utf-8"))}


def test_hookspecs_are_found() -> None:
    specs = hookspec_functions()
    assert {"on_accept", "fraud_check", "register_statuses"} <= set(specs)


@pytest.mark.parametrize("hook", sorted(hookspec_functions()))
def test_plugin_hooks_are_documented(hook: str) -> None:
    sections = documented()
    assert hook in sections, (
        f"docs/hooks.md has no section for the hook {hook!r}: add a `### {hook}(...)` heading "
        f"that says when it runs, what it gets and returns, what its errors do, with an example."
    )
    expected = ", ".join(inspect.signature(hookspec_functions()[hook]).parameters)
    assert sections[hook] == expected, (
        f"docs/hooks.md heads {hook!r} with ({sections[hook]}) but the hookspec takes "
        f"({expected})."
    )


def test_docs_document_no_hook_that_does_not_exist() -> None:
    assert set(documented()) <= set(hookspec_functions())


@pytest.mark.parametrize("hook", sorted(hookspec_functions()))
def test_every_hook_has_a_kind_and_its_docstring_says_it(hook: str) -> None:
    kind = hookspecs.HOOK_KINDS.get(hook)
    assert kind in {"register", "in-transaction", "after-commit"}, (
        f"hookspecs.HOOK_KINDS does not say whether {hook!r} is a register, in-transaction "
        f"or after-commit hook."
    )
    doc = (inspect.getdoc(hookspec_functions()[hook]) or "").lower()
    assert f"{kind} hook" in doc, f"the docstring of {hook!r} does not say '{kind} hook'"


def example_arguments(function: Callable[..., Any], settings: Settings) -> dict[str, Any]:
    """What a register hook's example is called with: `settings`, or for the order page's
    hooks an active order (not stored) and an admin, as far as the example takes them."""
    from ordermill.core.models import Order

    order = Order(number="4821736590", status="active", currency="EUR", total=2500,
                  buyer_name="Bea Buyer", buyer_email="bea@example.com", plugin_data={})
    available = {"settings": settings, "order": order,
                 "actor": Actor(kind="user", name="admin@shop.test", role="admin")}
    wanted = inspect.signature(function).parameters
    return {name: value for name, value in available.items() if name in wanted}


def section_examples() -> dict[str, list[str]]:
    """{hook: python code blocks of its section} from docs/hooks.md."""
    text = DOCS.read_text(encoding="utf-8")
    examples: dict[str, list[str]] = {}
    headings = list(HEADING.finditer(text))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.end():end]
        examples[heading.group(1)] = re.findall(r"```python\n(.*?)```", body, re.DOTALL)
    return examples


@pytest.mark.parametrize("hook", sorted(hookspec_functions()))
def test_each_section_has_an_example_that_registers(hook: str, tmp_path: Path) -> None:
    """The example imports, registers (right hook name, arguments the hook has) and, for a
    register hook, returns spec objects when called."""
    blocks = section_examples().get(hook, [])
    assert blocks, f"the section of {hook!r} in docs/hooks.md has no ```python example"
    module = types.ModuleType(f"docs_hooks_example_{hook}")
    module.__file__ = str(tmp_path / f"{module.__name__}.py")
    exec(compile(blocks[0], module.__file__, "exec"), module.__dict__)
    settings = Settings.from_env(env={}, database_url=f"sqlite:///{tmp_path / 'x.sqlite'}",
                                 instance_path=tmp_path)
    host = PluginHost(settings, load_entry_points=False)
    host.register(module, "docs-example")
    [info] = host.plugin_infos()
    assert hook in info.hooks
    if hookspecs.HOOK_KINDS.get(hook) != "register":
        return
    if hook == "add_hookspecs":  # registering ran it: the plugin now owns a hook
        assert any(host.spec_owner(name) == "docs-example" for name in host.pm.hook.__dict__)
        return
    function = getattr(module, hook)
    cli = click.Group("ordermill")
    offered = {**example_arguments(function, settings), "cli": cli}
    returned = function(**{name: value for name, value in offered.items()
                           if name in inspect.signature(function).parameters})
    if hook == "register_commands":
        assert cli.commands, "the example of 'register_commands' adds no command"
        return
    returned = list(returned or [])
    assert returned, f"the example of {hook!r} registers nothing"
    if hook == "register_blueprints":
        assert all(isinstance(item, flask.Blueprint) for item in returned)
    elif hook != "register_migration_locations":
        assert all(attrs.has(type(item)) for item in returned)
