"""The API docs page works offline: Swagger UI comes from the installed package, never a CDN
(issue 10, item 21).

The page is fetched through HTTP: every URL it references is same-origin and answers 200,
its Content-Security-Policy names no other host and no 'unsafe-inline', and in headless
Chromium (with every request outside the server refused, as on an offline install) Swagger
UI renders the ordermill API with no CSP violation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from ordermill.core.app import Ordermill
from ordermill.core.settings import Settings
from ordermill.testing_browser import launch_chromium
from ordermill.web import create_app


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A threaded werkzeug server around a real app (the page needs no data)."""
    folder = tmp_path_factory.mktemp("docs")
    settings = Settings.from_env(env={}, database_url=f"sqlite:///{folder / 'docs.sqlite'}",
                                 instance_path=folder)
    mill = Ordermill(settings)
    mill.create_schema()
    server = make_server("127.0.0.1", 0, create_app(mill, {"TESTING": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    mill.dispose()


def referenced_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def test_the_docs_page_references_only_same_origin_assets_and_each_is_served(
    docs_server: str,
) -> None:
    page = requests.get(f"{docs_server}/api/v1/docs", timeout=10)
    assert page.status_code == 200
    urls = referenced_urls(page.text)
    assert len(urls) >= 3  # the CSS, the bundle, the preset (and the favicon)
    origin = urlsplit(docs_server)
    for url in urls:
        absolute = urljoin(f"{docs_server}/api/v1/docs", url)
        parts = urlsplit(absolute)
        assert (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc), url
        asset = requests.get(absolute, timeout=10)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    assert "cdn.jsdelivr.net" not in page.text and "apiflask.com" not in page.text
    assert "validator.swagger.io" not in page.text


def test_the_docs_csp_allows_this_origin_only_and_no_unsafe_inline(docs_server: str) -> None:
    csp = requests.get(f"{docs_server}/api/v1/docs", timeout=10) \
        .headers["Content-Security-Policy"]
    assert "http" not in csp  # no other host
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"].startswith("'self' 'sha256-")
    assert directives["connect-src"] == "'self'"


def test_only_the_named_swagger_files_are_served(docs_server: str) -> None:
    assert requests.get(f"{docs_server}/api/v1/docs/assets/swagger-ui.css",
                        timeout=10).status_code == 200
    for name in ("index.html", "swagger-initializer.js", "../../../../etc/passwd", "nope.js"):
        answer = requests.get(f"{docs_server}/api/v1/docs/assets/{name}", timeout=10)
        assert answer.status_code == 404, name
    spec = requests.get(f"{docs_server}/api/v1/openapi.json", timeout=10).json()
    assert not any("/docs/assets" in path for path in spec["paths"])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.slow  # Chromium
def test_swagger_ui_renders_offline_with_no_csp_violation(
    docs_server: str, chromium: Any,
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    outside: list[str] = []
    console: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(docs_server):
            route.continue_()
        else:  # as on an intranet install: nothing outside answers
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{docs_server}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
    assert "ordermill API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    assert page.locator(".opblock").count() > 20  # the operations are listed
    context.close()
    assert outside == []
    assert not [text for text in console if "Content Security Policy" in text], console
