"""Apps of one process share compiled templates (ordermill.web.template_code)."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import DictLoader, Environment

from ordermill.core.app import Ordermill
from ordermill.web import create_app
from ordermill.web.template_code import SharedTemplateCode


def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    original = Environment._compile

    def spy(self: Environment, source: str, filename: str) -> Any:
        names.append(filename)
        return original(self, source, filename)

    monkeypatch.setattr(Environment, "_compile", spy)
    return names


def test_a_second_app_renders_the_admin_without_compiling_its_templates(
        mill: Ordermill, monkeypatch: pytest.MonkeyPatch) -> None:
    first = create_app(mill, {"TESTING": True}).test_client()
    assert first.get("/admin/login").status_code == 200
    names = compiled(monkeypatch)
    second = create_app(mill, {"TESTING": True}).test_client()
    page = second.get("/admin/login")
    assert page.status_code == 200 and b"<form" in page.data
    assert names == []


def test_a_changed_source_or_other_options_compile_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = SharedTemplateCode()
    names = compiled(monkeypatch)

    def render(source: str, **options: Any) -> str:
        environment = Environment(loader=DictLoader({"page.html": source}),
                                  bytecode_cache=cache, **options)
        return environment.get_template("page.html").render(name="<Bea>")

    assert render("Hello {{ name }}") == "Hello <Bea>"
    assert render("Hello {{ name }}") == "Hello <Bea>"
    assert len(names) == 1  # the second environment took the cached code
    assert render("Hi {{ name }}") == "Hi <Bea>"  # edited source
    assert render("Hi {{ name }}", autoescape=True) == "Hi &lt;Bea&gt;"  # other code
    assert len(names) == 3
