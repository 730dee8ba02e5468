"""A plugin whose on_demo_loaded fails is named in the log and the demo shop still loads: the
hook has no order to record a hook_failed event on."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ordermill.api import hookimpl
from ordermill.core.app import Ordermill
from ordermill.demo import load_demo


@pytest.mark.slow  # loads the whole demo shop
def test_a_failing_on_demo_loaded_is_logged_and_the_demo_loads(
    mill: Ordermill, register_plugin: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        @hookimpl
        def on_demo_loaded(self, orders: list[str], ctx: Any) -> None:
            raise RuntimeError("demo seeding broke")

    register_plugin(Broken(), "broken-demo")
    with caplog.at_level(logging.WARNING):
        summary = load_demo(mill, spread_days=False)
    assert summary.orders and all(mill.orders.get(number) for number in summary.orders)
    failures = [record for record in caplog.records if "on_demo_loaded" in record.getMessage()]
    assert len(failures) == 1
    assert "broken-demo" in failures[0].getMessage()
    assert "demo seeding broke" in (failures[0].exc_text or "")
