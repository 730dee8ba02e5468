"""The plugin's settings (ORDERMILL_PLUGIN_CONFIG {"subscriptions": {...}}).

    retry_interval        seconds between a failed debit and its retry (default 1 day);
                          the first failure plus `max_retries` retries, then Failed
    max_retries           retries after the first failed debit (default 2, seed 003)
    invoice_days_before   days before the due date a renewal invoice is made (default 0)
    tick_seconds          how often the scheduler job looks for work (default 300, so a
                          resumed subscription is debited within 10 minutes)
    instalment_interval   the interval of an invoice plan's parts, e.g. "1 month" (default)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ordermill.api import ConfigurationError, Settings
from ordermill.plugins.subscriptions.models import INTERVAL_UNITS

PLUGIN = "subscriptions"
DAY = 86_400
CYCLES = {"daily": (1, "day"), "weekly": (1, "week"), "monthly": (1, "month"),
          "quarterly": (3, "month"), "semiannually": (6, "month"), "annually": (1, "year"),
          "yearly": (1, "year"), "biennially": (2, "year"), "triennially": (3, "year")}


def parse_interval(text: str) -> tuple[int, str]:
    """"1 month", "2 weeks", "monthly" -> (count, unit)."""
    cleaned = str(text).strip().lower()
    if cleaned in CYCLES:
        return CYCLES[cleaned]
    count, _, unit = cleaned.partition(" ")
    unit = unit.strip().rstrip("s")
    if not count.isdigit() or int(count) < 1 or unit not in INTERVAL_UNITS:
        raise ValueError(f"interval {text!r} must be like '1 month', '2 weeks' or 'monthly'")
    return int(count), unit


@attrs.frozen
class SubscriptionsConfig:
    retry_interval: int = DAY
    max_retries: int = 2
    invoice_days_before: int = 0
    tick_seconds: int = 300
    instalment_interval: tuple[int, str] = (1, "month")

    @property
    def retry_delta(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.retry_interval)

    @classmethod
    def from_settings(cls, settings: Settings) -> SubscriptionsConfig:
        raw: dict[str, Any] = dict(settings.plugin_config(PLUGIN))
        unknown = set(raw) - {field.name for field in attrs.fields(cls)}
        if unknown:
            raise ConfigurationError(f"{PLUGIN}: unknown setting(s) {', '.join(sorted(unknown))}.")
        values: dict[str, Any] = {}
        for name in ("retry_interval", "max_retries", "invoice_days_before", "tick_seconds"):
            if name in raw:
                value = raw[name]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ConfigurationError(f"{PLUGIN}: {name} must be a whole number >= 0.")
                values[name] = value
        if "instalment_interval" in raw:
            try:
                values["instalment_interval"] = parse_interval(raw["instalment_interval"])
            except ValueError as error:
                raise ConfigurationError(f"{PLUGIN}: {error}.") from None
        if values.get("tick_seconds", 1) < 1:
            raise ConfigurationError(f"{PLUGIN}: tick_seconds must be at least 1.")
        return cls(**values)
