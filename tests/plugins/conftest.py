"""Fixtures shared by the block tests (test_block_each_plugin.py, test_block_plugin_pairs.py)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from ordermill.core.models import Product


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ORDERMILL_* variable of the developer's shell leaks into a CLI run."""
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)


@pytest.fixture
def shop(make_product: Callable[..., Product]) -> None:
    make_product("MUG", price=1000, stock=10)
    make_product("TICKET", price=2500, stock=50, kind="ticket")
