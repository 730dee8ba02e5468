"""Fixtures for the e-mail plugin: a real SMTP server on loopback and a configured mill."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ordermill.plugins.notify_email.testing import SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A running aiosmtpd server; tests may stop() and start() it again on the same port."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def notify_config(smtp: SmtpSink) -> dict[str, Any]:
    """The plugin config pointing at the test server; tests extend it through overrides."""
    return {
        "host": "127.0.0.1", "port": smtp.port, "timeout": 5,
        "from_address": "orders@shop.test", "from_name": "Test Shop",
        "team_recipients": ["team@shop.test"], "base_url": "https://shop.test",
        "bank_details": {"Account holder": "Test Shop Ltd", "IBAN": "DE89 3704 0044 0532 0130 00",
                         "BIC": "COBADEFFXXX"},
    }


@pytest.fixture
def ordermill_settings_overrides(notify_config: dict[str, Any]) -> dict[str, Any]:
    return {"plugins": {"notify_email": notify_config}, "shop_name": "Test Shop"}


@pytest.fixture
def reconfigure(mill: Any) -> Any:
    """Change the plugin config (and other settings) of this test's mill in place.

    The plugin reads its config from `mill.settings` at every call, so a test can point it at
    a template folder, lower max_attempts or slow the backoff without a second app.
    """
    import attrs

    def change(*, notify: dict[str, Any] | None = None, **settings_changes: Any) -> None:
        plugins = dict(mill.settings.plugins)
        if notify is not None:
            plugins["notify_email"] = {**plugins.get("notify_email", {}), **notify}
        mill.settings = attrs.evolve(mill.settings, plugins=plugins, **settings_changes)
        mill.refresh()

    return change
