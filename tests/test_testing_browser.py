"""Which Chromium the browser tests launch (ordermill.testing_browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordermill import testing_browser


def test_the_headless_shell_is_preferred_then_the_desktop_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shell, desktop = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    monkeypatch.delenv("ORDERMILL_CHROMIUM", raising=False)
    monkeypatch.setattr(testing_browser, "CHROMIUM_CANDIDATES", (str(shell), str(desktop)))
    assert testing_browser.chromium_path() == str(desktop)  # neither: the last, named
    assert "no Chromium at" in (testing_browser.browser_problem() or "")
    desktop.touch()
    assert testing_browser.chromium_path() == str(desktop)
    shell.touch()
    assert testing_browser.chromium_path() == str(shell)
    monkeypatch.setenv("ORDERMILL_CHROMIUM", str(desktop))
    assert testing_browser.chromium_path() == str(desktop)
