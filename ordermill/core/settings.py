"""Configuration, read when the app is made (never at import time).

Precedence: explicit keyword overrides, then ORDERMILL_* environment variables, then defaults.
Per-plugin settings live in `plugins` keyed by plugin name, e.g.
ORDERMILL_PLUGIN_CONFIG='{"payment_banktransfer": {"iban": "..."}}'.

The secret key has no built-in value (see core/secret_keys.py): from the environment, else on
SQLite the instance folder's own random key, else (PostgreSQL) None until one is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ordermill.core import secret_keys
from ordermill.core.backoff import (
    DEFAULT_BASE_SECONDS,
    DEFAULT_CAP_SECONDS,
    DEFAULT_JITTER,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    outbox_env,
)
from ordermill.core.errors import ConfigurationError
from ordermill.core.i18n import gettext as _

DEFAULT_ORDER_LINK_MAX_AGE_DAYS = 180


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _whole_number(env: Mapping[str, str], key: str, minimum: int) -> int | None:
    if key not in env:
        return None
    text = env[key].strip()
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise ConfigurationError(f"{key} must be a whole number of at least {minimum}.")
    return int(text)


def _check_secret_key(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        secret_keys.check_key(value)


def _check_timezone(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An unknown zone stops start-up: dates shown in a guessed zone would be wrong on every
    page, e-mail and invoice, silently."""
    if not is_timezone_name(value):
        raise ConfigurationError(_(
            "ORDERMILL_TIMEZONE is '%(zone)s', which is not a time zone name; use an IANA "
            "name such as Europe/Paris.", zone=value))


def is_timezone_name(value: Any) -> bool:
    """True for a name zoneinfo knows ("Europe/Paris", "UTC"); paths and odd text are not."""
    if not isinstance(value, str) or not value or value != value.strip():
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _check_fallbacks(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for key in value:
        secret_keys.check_key(key, "ORDERMILL_SECRET_KEY_FALLBACKS")


@attrs.frozen
class Settings:
    database_url: str
    instance_path: Path
    fraud_threshold: Decimal = Decimal("75")
    default_currency: str = "EUR"
    # the shop's IANA time zone: every date a person reads is shown in it (machine formats,
    # API JSON and CSV, stay UTC)
    timezone: str = attrs.field(default="UTC", validator=_check_timezone)
    load_plugins: tuple[str, ...] | None = None
    block_plugins: tuple[str, ...] = ()
    trace_plugins: bool = False
    strict_plugins: bool = False
    custom_statuses: tuple[Mapping[str, Any], ...] = ()
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    # repr=False: settings may be logged; keys never are
    secret_key: str | None = attrs.field(default=None, repr=False, validator=_check_secret_key)
    secret_key_fallbacks: tuple[str, ...] = attrs.field(
        default=(), converter=tuple, repr=False, validator=_check_fallbacks)
    order_link_max_age_days: int = DEFAULT_ORDER_LINK_MAX_AGE_DAYS
    secure_cookies: bool = False
    proxy_count: int = 0
    outbox_max_attempts: int = DEFAULT_MAX_ATTEMPTS  # retry schedule: core/backoff.py
    outbox_backoff_seconds: float = DEFAULT_BASE_SECONDS
    outbox_backoff_max_seconds: float = DEFAULT_CAP_SECONDS
    outbox_backoff_jitter: float = DEFAULT_JITTER
    outbox_lease_seconds: float = DEFAULT_LEASE_SECONDS
    shop_name: str = "ordermill demo shop"
    db_busy_timeout: float = 30.0  # seconds a SQLite write waits for another's lock
    # years issued invoices keep the buyer's data after a customer's erasure (issue 19)
    invoice_retention_years: int = 10

    def plugin_config(self, name: str) -> Mapping[str, Any]:
        return self.plugins.get(name, {})

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The current key, then the fallbacks; ConfigurationError when no key is set."""
        current = secret_keys.require_key(self.secret_key, self.database_url)
        return secret_keys.keyring(current, self.secret_key_fallbacks)

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
        if "ORDERMILL_DB_BUSY_TIMEOUT" in env:
            try:
                values["db_busy_timeout"] = max(0.0, float(env["ORDERMILL_DB_BUSY_TIMEOUT"]))
            except ValueError:
                raise ConfigurationError(
                    "ORDERMILL_DB_BUSY_TIMEOUT must be a number of seconds, e.g. 30."
                ) from None
        if env.get("ORDERMILL_SECRET_KEY"):
            values["secret_key"] = env["ORDERMILL_SECRET_KEY"].strip()
        values["secret_key_fallbacks"] = secret_keys.split_fallbacks(
            env.get("ORDERMILL_SECRET_KEY_FALLBACKS"))
        max_age = _whole_number(env, "ORDERMILL_ORDER_LINK_MAX_AGE_DAYS", 1)
        if max_age is not None:
            values["order_link_max_age_days"] = max_age
        retention = _whole_number(env, "ORDERMILL_INVOICE_RETENTION_YEARS", 0)
        if retention is not None:
            values["invoice_retention_years"] = retention
        proxies = _whole_number(env, "ORDERMILL_PROXY_COUNT", 0)
        if proxies is not None:
            values["proxy_count"] = proxies
        values["secure_cookies"] = _truthy(env.get("ORDERMILL_SECURE_COOKIES"))
        if "ORDERMILL_DEFAULT_CURRENCY" in env:
            values["default_currency"] = env["ORDERMILL_DEFAULT_CURRENCY"]
        if "ORDERMILL_TIMEZONE" in env:
            values["timezone"] = env["ORDERMILL_TIMEZONE"].strip() or "UTC"
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
        if not values.get("secret_key"):
            values["secret_key"] = secret_keys.key_for_sqlite(values["database_url"], instance)
        return cls(**values)
