"""Configuration, read when the app is made (never at import time).

Precedence: explicit keyword overrides, then ORDERMILL_* environment variables, then defaults.
Per-plugin settings live in `plugins` keyed by plugin name, e.g.
ORDERMILL_PLUGIN_CONFIG='{"payment_banktransfer": {"iban": "..."}}'.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from ordermill.core.errors import ConfigurationError
from ordermill.core.retry import (
    DEFAULT_BASE_SECONDS,
    DEFAULT_CAP_SECONDS,
    DEFAULT_JITTER,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    outbox_env,
)


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@attrs.frozen
class Settings:
    database_url: str
    instance_path: Path
    fraud_threshold: Decimal = Decimal("75")
    default_currency: str = "EUR"
    load_plugins: tuple[str, ...] | None = None
    block_plugins: tuple[str, ...] = ()
    trace_plugins: bool = False
    strict_plugins: bool = False
    custom_statuses: tuple[Mapping[str, Any], ...] = ()
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    outbox_max_attempts: int = DEFAULT_MAX_ATTEMPTS  # retry schedule: core/retry.py
    outbox_backoff_seconds: float = DEFAULT_BASE_SECONDS
    outbox_backoff_max_seconds: float = DEFAULT_CAP_SECONDS
    outbox_backoff_jitter: float = DEFAULT_JITTER
    outbox_lease_seconds: float = DEFAULT_LEASE_SECONDS
    secret_key: str = "dev-secret-change-me"
    shop_name: str = "ordermill demo shop"

    def plugin_config(self, name: str) -> Mapping[str, Any]:
        return self.plugins.get(name, {})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        instance = Path(overrides.pop("instance_path", None) or env.get(
            "ORDERMILL_INSTANCE_PATH", Path.cwd() / "instance"
        ))
        values: dict[str, Any] = {
            "instance_path": instance,
            "database_url": env.get("ORDERMILL_DATABASE_URL")
            or f"sqlite:///{instance / 'ordermill.sqlite'}",
            "load_plugins": _split(env.get("ORDERMILL_LOAD_PLUGINS")),
            "block_plugins": _split(env.get("ORDERMILL_BLOCK_PLUGINS")) or (),
            "trace_plugins": _truthy(env.get("ORDERMILL_TRACE_PLUGINS")),
            "strict_plugins": _truthy(env.get("ORDERMILL_STRICT_PLUGINS")),
        }
        if "ORDERMILL_FRAUD_THRESHOLD" in env:
            try:
                values["fraud_threshold"] = Decimal(env["ORDERMILL_FRAUD_THRESHOLD"])
            except InvalidOperation:
                raise ConfigurationError(
                    "ORDERMILL_FRAUD_THRESHOLD must be a number between 0 and 100."
                ) from None
        if "ORDERMILL_SECRET_KEY" in env:
            values["secret_key"] = env["ORDERMILL_SECRET_KEY"]
        if "ORDERMILL_DEFAULT_CURRENCY" in env:
            values["default_currency"] = env["ORDERMILL_DEFAULT_CURRENCY"]
        for key, name in (("ORDERMILL_PLUGIN_CONFIG", "plugins"),
                          ("ORDERMILL_CUSTOM_STATUSES", "custom_statuses")):
            if key in env:
                try:
                    parsed = json.loads(env[key])
                except json.JSONDecodeError as error:
                    raise ConfigurationError(f"{key} is not valid JSON: {error}") from None
                values[name] = tuple(parsed) if name == "custom_statuses" else parsed
        values.update(outbox_env(env))
        values.update(overrides)
        return cls(**values)
