"""The provisioning module and registrar interface: small frozen objects, like core/specs.py.

A provisioning module (WHMCS "server module") creates, suspends, unsuspends and terminates
the service an order line bought on some panel. A registrar registers or transfers domains.
Each is a spec with plain callables, so a module is a few functions and no class hierarchy:

    def create(request: ServiceRequest) -> ModuleResult: ...

Callables get one ServiceRequest (everything the panel needs, password included) and return a
ModuleResult, or raise to fail: the provisioning plugin records the failure on the order and,
for remote modules, retries through the outbox. Remote modules run in an outbox worker,
outside any transaction, and must be idempotent: `request.delivery_id` is the same on every
retry of one command, and `request.service_id` names the service for good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from sqlalchemy.orm import Session

from ordermill.api import InvalidInput

COMMANDS = ("create", "suspend", "unsuspend", "terminate")
SETTING_KINDS = ("str", "url", "int", "bool")


@attrs.frozen
class ModuleSetting:
    """One setting of a module's schema.

    `scope` "module" is read from the plugin config (`modules.<name>.<setting>`), "server"
    from a server's credentials in the registry; `secret` values are never shown back.
    """

    name: str
    label: str
    kind: str = attrs.field(default="str", validator=attrs.validators.in_(SETTING_KINDS))
    required: bool = False
    secret: bool = False
    scope: str = attrs.field(default="module", validator=attrs.validators.in_(("module",
                                                                                "server")))
    default: Any = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def validate_settings(schema: tuple[ModuleSetting, ...], values: Mapping[str, Any], *,
                      scope: str, who: str) -> dict[str, Any]:
    """Check `values` against the part of `schema` in `scope`; defaults filled in.

    Raises InvalidInput naming the field, so an admin saving a server sees what to fix.
    """
    fields = {setting.name: setting for setting in schema if setting.scope == scope}
    unknown = set(values) - set(fields)
    if unknown:
        raise InvalidInput(f"{who}: unknown setting(s) {', '.join(sorted(unknown))}; known: "
                           f"{', '.join(sorted(fields)) or 'none'}.",
                           details={"fields": sorted(unknown)})
    checked: dict[str, Any] = {}
    for name, setting in fields.items():
        value = values.get(name, setting.default)
        if value is None or value == "":
            if setting.required:
                raise InvalidInput(f"{who}: {setting.label} ({name}) is required.",
                                   details={"field": name})
            continue
        checked[name] = _coerce(setting, value, who)
    return checked


def _coerce(setting: ModuleSetting, value: Any, who: str) -> Any:
    wrong = InvalidInput(f"{who}: {setting.label} ({setting.name}) must be a {setting.kind}.",
                         details={"field": setting.name})
    if setting.kind == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if setting.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if not isinstance(value, str):
        raise wrong
    if setting.kind == "url" and not value.startswith(("https://", "http://")):
        raise InvalidInput(f"{who}: {setting.label} ({setting.name}) must be an http(s) URL.",
                           details={"field": setting.name})
    return value


@attrs.frozen
class ServerInfo:
    """The registry entry a service runs on, credentials decrypted for the module."""

    id: int
    name: str
    hostname: str
    credentials: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class ServiceRequest:
    """Everything a module needs to act on one service (a line of an order)."""

    command: str
    service_id: int
    delivery_id: str
    order_number: str
    line_id: int
    sku: str
    product_name: str
    quantity: int
    kind: str
    module: str
    buyer: Mapping[str, Any]
    settings: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    server: ServerInfo | None = None
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    domain: str | None = None
    attendee: str | None = None
    order_id: int | None = None
    billing_cycle: str | None = None
    product_options: Mapping[str, Any] = attrs.field(factory=dict)
    line_options: Mapping[str, Any] = attrs.field(factory=dict)
    remote_id: str | None = None
    send_email: bool = True
    reason: str | None = None
    session: Session | None = attrs.field(default=None, repr=False, eq=False)

    def to_payload(self) -> dict[str, Any]:
        """The service as JSON for a remote panel (webhook body): password included, since
        the panel creates the account with it; server credentials never."""
        return {
            "id": self.service_id, "order_number": self.order_number, "line_id": self.line_id,
            "sku": self.sku, "product": self.product_name, "quantity": self.quantity,
            "kind": self.kind, "module": self.module, "username": self.username,
            "password": self.password, "domain": self.domain, "attendee": self.attendee,
            "billing_cycle": self.billing_cycle, "remote_id": self.remote_id,
            "product_options": dict(self.product_options),
            "line_options": dict(self.line_options),
            "server": ({"id": self.server.id, "name": self.server.name,
                        "hostname": self.server.hostname} if self.server else None),
        }


@attrs.frozen
class ModuleResult:
    """What a module reports back: the panel's id for the service and anything to keep."""

    remote_id: str | None = None
    message: str = ""
    data: Mapping[str, Any] = attrs.field(factory=dict)


Command = Callable[[ServiceRequest], ModuleResult | None]


@attrs.frozen
class ProvisioningModuleSpec:
    """A provisioning module (create / suspend / unsuspend / terminate + settings schema).

    `in_transaction` modules change only ordermill's own database (e-tickets): they run inside
    the action's transaction, with `request.session`, so their result commits with it.
    Others call an outside panel from an outbox worker, with retries. `needs_server` makes
    accept pick a server of this module from the registry (the chosen or least-loaded one).
    `requires_payment` modules create only once the order is paid, whatever else happens.
    `reduce`, optional, is called when some units of a line were cancelled or refunded and
    the rest stay (1 of 3 tickets): `request.quantity` is the line's quantity now, end the
    units beyond it and keep the service (e-tickets void that many tickets). Only
    in-transaction modules are asked; a remote service stays as it is while any unit of its
    line is active, and ends when the last one closes.
    """

    name: str
    label: str
    create: Command
    terminate: Command
    suspend: Command | None = None
    unsuspend: Command | None = None
    reduce: Command | None = None
    settings_schema: tuple[ModuleSetting, ...] = ()
    needs_server: bool = False
    in_transaction: bool = False
    requires_payment: bool = False
    description: str = ""

    def command(self, name: str) -> Command | None:
        if name not in COMMANDS:
            raise InvalidInput(f"Unknown module command {name!r}; use one of "
                               f"{', '.join(COMMANDS)}.")
        return getattr(self, name)  # type: ignore[no-any-return]


@attrs.frozen
class RegistrarSpec:
    """A domain registrar: register or transfer the domain of a line (WHMCS "Send to
    Registrar"). Called from an outbox worker with retries, like remote modules."""

    name: str
    label: str
    register: Command
    transfer: Command
    settings_schema: tuple[ModuleSetting, ...] = ()
    description: str = ""


__all__ = [
    "COMMANDS",
    "ModuleResult",
    "ModuleSetting",
    "ProvisioningModuleSpec",
    "RegistrarSpec",
    "ServerInfo",
    "ServiceRequest",
    "validate_settings",
]
