"""Headless Chromium for browser tests (the admin, the API docs, a plugin's panel).

`launch_chromium()` is the body of a module-scoped `chromium` fixture: it yields a Playwright
browser, skips the test where Playwright or Chromium is missing, and fails instead under
CI=true (CI must run the browser tests).

Which Chromium: `ORDERMILL_CHROMIUM` when set, else Debian's `chromium-headless-shell` (the
headless build of the same Chromium, without the desktop browser's layers: the admin walks
cost about 30 % less CPU in it than in `chromium --headless`, issue 11), else `chromium`.
Both render with the same Blink and run the same V8.

    @pytest.fixture(scope="module")
    def chromium() -> Iterator[Any]:
        yield from launch_chromium()
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium_path() -> str:
    """The Chromium executable the browser tests launch (see the module)."""
    chosen = os.environ.get("ORDERMILL_CHROMIUM")
    if chosen:
        return chosen
    return next((path for path in CHROMIUM_CANDIDATES if Path(path).exists()),
                CHROMIUM_CANDIDATES[-1])


def browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    path = chromium_path()
    if not Path(path).exists():
        return f"no Chromium at {path} (apt-get install chromium-headless-shell)"
    return None


def launch_chromium() -> Iterator[Any]:
    """A headless Chromium for one test module; skipped without one, failed under CI=true."""
    from ordermill.testing import in_ci

    problem = browser_problem()
    if problem:
        if in_ci():
            pytest.fail(f"{problem}; CI=true requires the browser tests.")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
