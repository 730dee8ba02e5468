"""The plugin's settings, read from `settings.plugins["notify_email"]` when a job needs them.

Example (ORDERMILL_PLUGIN_CONFIG):

    {"notify_email": {
        "host": "smtp.example.com", "port": 587, "security": "starttls",
        "username": "shop", "password": "...",
        "from_address": "orders@example.com", "from_name": "Example Shop",
        "team_recipients": ["team@example.com"],
        "base_url": "https://shop.example.com",
        "template_dir": "/srv/shop/mail-templates",
        "bank_details": {"Account holder": "Example Ltd", "IBAN": "DE89 ...", "BIC": "..."}
    }}

Without `host` the plugin stays inactive: it queues nothing, so installing ordermill never
fills the outbox with mail that has nowhere to go.

The sender, reply-to and team recipients can also be set on the admin's "E-mail" settings
tab (settings.py); stored values win over these (`NotifyConfig.for_mill`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.api import ConfigurationError, Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ordermill.api import Ordermill

PLUGIN_NAME = "notify_email"
SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


def _strings(value: Any) -> tuple[str, ...]:
    """A list, or a comma-separated string, of non-empty strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(item).strip() for item in value if str(item).strip())


@attrs.frozen
class NotifyConfig:
    """SMTP connection, sender, recipients and template settings of the e-mail plugin."""

    host: str | None = None
    port: int = 25
    security: str = "none"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: float = 30.0
    tls_ca_file: str | None = None
    helo_name: str | None = None
    from_address: str = "orders@localhost"
    from_name: str = ""
    reply_to: str | None = None
    message_id_domain: str | None = None
    team_recipients: tuple[str, ...] = ()
    team_language: str = "en"
    base_url: str | None = None
    template_dir: Path | None = None
    bank_details: str | Mapping[str, Any] | None = None
    bank_transfer_methods: tuple[str, ...] = ("banktransfer",)
    default_language: str = "en"
    disabled_messages: frozenset[str] = frozenset()
    max_attempts: int | None = None
    problem: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def domain(self) -> str:
        """The right-hand side of Message-IDs: configured, or the sender's domain."""
        if self.message_id_domain:
            return self.message_id_domain
        return self.from_address.rpartition("@")[2] or "localhost"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, shop_name: str = "") -> NotifyConfig:
        security = str(raw.get("security") or "").lower() or (
            "ssl" if raw.get("ssl") else "starttls" if raw.get("starttls") else "none")
        if security not in SECURITY_MODES:
            raise ConfigurationError(
                f"notify_email: security must be one of {', '.join(SECURITY_MODES)}, not "
                f"{security!r}.")
        try:
            port = int(raw.get("port") or DEFAULT_PORTS[security])
            timeout = float(raw.get("timeout") or 30.0)
            max_attempts = int(raw["max_attempts"]) if raw.get("max_attempts") else None
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"notify_email: bad number in config: {error}") from None
        template_dir = raw.get("template_dir")
        return cls(
            host=raw.get("host") or None, port=port, security=security,
            username=raw.get("username") or None, password=raw.get("password") or None,
            timeout=timeout, tls_ca_file=raw.get("tls_ca_file") or None,
            helo_name=raw.get("helo_name") or None,
            from_address=raw.get("from_address") or "orders@localhost",
            from_name=raw.get("from_name") or shop_name,
            reply_to=raw.get("reply_to") or None,
            message_id_domain=raw.get("message_id_domain") or None,
            team_recipients=_strings(raw.get("team_recipients")),
            team_language=raw.get("team_language") or "en",
            base_url=raw.get("base_url") or None,
            template_dir=Path(template_dir) if template_dir else None,
            bank_details=raw.get("bank_details") or None,
            bank_transfer_methods=_strings(raw.get("bank_transfer_methods", "banktransfer")),
            default_language=raw.get("default_language") or "en",
            disabled_messages=frozenset(_strings(raw.get("disabled_messages"))),
            max_attempts=max_attempts,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, strict: bool = True,
                      stored: Mapping[str, Any] | None = None) -> NotifyConfig:
        """The config; with `strict=False` a mistake in the SMTP settings is kept as `problem`
        instead of raised, so queueing mail never blocks an order: delivery then fails with
        the problem as the job's error, and the mail waits until the config is fixed.
        `stored` (the admin's settings tab) wins over the configured values."""
        raw = {**settings.plugin_config(PLUGIN_NAME), **(stored or {})}
        try:
            return cls.from_mapping(raw, shop_name=settings.shop_name)
        except ConfigurationError as error:
            if strict:
                raise
            transport = {"security", "ssl", "starttls", "port", "timeout", "max_attempts"}
            safe = {key: value for key, value in raw.items() if key not in transport}
            return attrs.evolve(cls.from_mapping(safe, shop_name=settings.shop_name),
                                problem=error.message)

    @classmethod
    def for_mill(cls, mill: Ordermill, *, strict: bool = True,
                 session: Session | None = None) -> NotifyConfig:
        """The config with what an admin stored on the plugin's settings tab over it (read in
        `session` when given: inside an action, its own transaction)."""
        from ordermill.api import plugin_settings
        from ordermill.plugins.notify_email.settings import PAGE

        if not mill.settings.plugin_config(PLUGIN_NAME).get("host"):
            return _parsed(cls, mill.settings, strict, {})  # inactive: none stored matters
        return _parsed(cls, mill.settings, strict, plugin_settings(mill, PAGE, session=session))


# Parsed configs by (settings object, strict, stored values): every action asks for the
# config (`jobs_for_event`), and parsing it each time was 3 % of an accept (issue 20). The
# settings object is held weakly and checked, so a new Settings (a test's reconfigure, a
# reload) is parsed afresh; stored values are part of the key, so an admin's edit applies
# at the next action.
_PARSED: dict[tuple[Any, ...], tuple[weakref.ref[Settings], NotifyConfig]] = {}
_PARSED_MAX = 64


def _parsed(cls: type[NotifyConfig], settings: Settings, strict: bool,
            stored: Mapping[str, Any]) -> NotifyConfig:
    try:
        key = (cls, id(settings), strict, frozenset(stored.items()))
    except TypeError:  # a stored value that is not hashable (a list): parse it each time
        return cls.from_settings(settings, strict=strict, stored=stored)
    hit = _PARSED.get(key)
    if hit is not None and hit[0]() is settings:
        return hit[1]
    config = cls.from_settings(settings, strict=strict, stored=stored)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = (weakref.ref(settings), config)
    return config
