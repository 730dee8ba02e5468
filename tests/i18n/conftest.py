"""Shared by the i18n tests: a process environment with no ordermill or locale variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ordermill.core.i18n import LOCALE_VARS


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a CLI run on a fresh SQLite file: nothing leaks in from the shell
    (no ORDERMILL_* setting, no language), so each test says what it sets."""
    for key in list(os.environ):
        if key.startswith("ORDERMILL_") or key in LOCALE_VARS:
            monkeypatch.delenv(key)
    return {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.fixture
def shell_language(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """shell_language("fr_FR.UTF-8"): this process's CLI runs speak that LANG, nothing else."""

    def speak(lang: str) -> None:
        for key in LOCALE_VARS:
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("LANG", lang)

    return speak
