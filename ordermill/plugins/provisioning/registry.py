"""Which modules and registrars this app has, and the plugin's configuration.

Modules and registrars come from the plugins implementing `register_provisioning_modules`, the
hook this plugin adds (hookspecs.py): the built-in `webhook` module and registrar (entry
point `provisioning_webhook`) and `etickets` module (`provisioning_etickets`) as much as a
third party's. They are read per app through `mill.plugins.call(...)` and never cached across
apps, so what an app's load and block settings chose is what it gets. A duplicate name fails
with a PluginConflict naming both plugins, as the core does for gateways.

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"provisioning": {
        "max_attempts": 5,                      # per outbox job, then dead-lettered
        "modules": {"webhook": {"url": "https://panel.example/ordermill",
                                "secret": "...", "timeout": 10}},
        "registrars": {"webhook": {"url": "https://registrar.example/hook", "secret": "..."}},
        "default_registrar": "webhook"          # used when accept names none
    }}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.api import ConfigurationError, InvalidInput, PluginConflict, PluginError, Settings
from ordermill.plugins.provisioning.specs import (
    COMMANDS,
    ProvisioningModuleSpec,
    RegistrarSpec,
    validate_settings,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

PLUGIN = "provisioning"
HOOK = "register_provisioning_modules"
TICKET_MODULE = "etickets"


@attrs.frozen
class Installed:
    """The modules and registrars of one app, by name."""

    modules: Mapping[str, ProvisioningModuleSpec]
    registrars: Mapping[str, RegistrarSpec]


def installed(mill: Ordermill) -> Installed:
    """Ask this app's plugins for their modules and registrars (the hook of this plugin).

    A ConfigurationError when the app has not loaded the provisioning plugin (its hook does
    not exist then); a PluginConflict naming both plugins when two give one name; a
    PluginError naming the plugin that returned something else.
    """
    host = mill.plugins
    try:
        outcome = host.call(HOOK)
    except LookupError:  # UnknownHook: the provisioning plugin is blocked or absent
        raise ConfigurationError(
            "The provisioning plugin is not loaded in this app, so it has no provisioning "
            "modules.") from None
    found: dict[str, dict[str, tuple[Any, str]]] = {"module": {}, "registrar": {}}
    for plugin, returned in outcome.results:
        try:
            items = list(returned)
        except TypeError:
            raise PluginError(host.describe(plugin), HOOK, f"returned {returned!r}, not a "
                              f"list of provisioning module or registrar specs") from None
        for spec in items:
            if isinstance(spec, ProvisioningModuleSpec):
                what = "module"
            elif isinstance(spec, RegistrarSpec):
                what = "registrar"
            else:
                raise PluginError(host.describe(plugin), HOOK, f"returned {spec!r}, not a "
                                  f"ProvisioningModuleSpec or RegistrarSpec")
            table = found[what]
            if spec.name in table:
                other = table[spec.name][1]
                raise PluginConflict.between(f"provisioning {what}", spec.name,
                                             host.describe(other), host.describe(plugin),
                                             [other, plugin], key=what)
            table[spec.name] = (spec, plugin)
    return Installed(
        modules={name: spec for name, (spec, _p) in sorted(found["module"].items())},
        registrars={name: spec for name, (spec, _p) in sorted(found["registrar"].items())})


def describe(mill: Ordermill) -> list[dict[str, Any]]:
    """The installed modules and registrars as the API, the admin's Servers page and
    `ordermill provisioning modules` show them."""
    found = installed(mill)
    described: list[dict[str, Any]] = []
    for spec in found.modules.values():
        described.append({
            "name": spec.name, "label": spec.label, "type": "module",
            "description": spec.description,
            "commands": [c for c in COMMANDS if getattr(spec, c) is not None],
            "needs_server": spec.needs_server, "in_transaction": spec.in_transaction,
            "requires_payment": spec.requires_payment,
            "settings": [setting.to_dict() for setting in spec.settings_schema]})
    for registrar in found.registrars.values():
        described.append({
            "name": registrar.name, "label": registrar.label, "type": "registrar",
            "description": registrar.description, "commands": ["register", "transfer"],
            "needs_server": False, "in_transaction": False, "requires_payment": False,
            "settings": [setting.to_dict() for setting in registrar.settings_schema]})
    return described


def loaded(mill: Ordermill) -> bool:
    """Whether this app loaded the provisioning plugin (and so has its hook)."""
    return mill.plugins.spec_owner(HOOK) is not None


def modules(mill: Ordermill) -> Mapping[str, ProvisioningModuleSpec]:
    return installed(mill).modules


def registrars(mill: Ordermill) -> Mapping[str, RegistrarSpec]:
    return installed(mill).registrars


def module(mill: Ordermill, name: str) -> ProvisioningModuleSpec:
    known = modules(mill)
    found = known.get(name)
    if found is None:
        raise InvalidInput(f"Unknown provisioning module {name!r}; installed: "
                           f"{', '.join(sorted(known)) or 'none'}.", details={"module": name})
    return found


def registrar(mill: Ordermill, name: str) -> RegistrarSpec:
    known = registrars(mill)
    found = known.get(name)
    if found is None:
        raise InvalidInput(f"Unknown registrar {name!r}; installed: "
                           f"{', '.join(sorted(known)) or 'none'}.", details={"registrar": name})
    return found


@attrs.frozen
class ProvisioningConfig:
    """The plugin's settings, read from Settings when needed (never at import time)."""

    max_attempts: int = 5
    modules: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    registrars: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    default_registrar: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ProvisioningConfig:
        raw = dict(settings.plugin_config(PLUGIN))
        unknown = set(raw) - {field.name for field in attrs.fields(cls)}
        if unknown:
            raise ConfigurationError(f"{PLUGIN}: unknown setting(s) {', '.join(sorted(unknown))}.")
        attempts = raw.get("max_attempts", settings.outbox_max_attempts)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigurationError(f"{PLUGIN}: max_attempts must be a whole number >= 1.")
        return cls(max_attempts=attempts, modules=dict(raw.get("modules") or {}),
                   registrars=dict(raw.get("registrars") or {}),
                   default_registrar=raw.get("default_registrar") or None)

    def module_settings(self, spec: ProvisioningModuleSpec) -> dict[str, Any]:
        try:
            return validate_settings(spec.settings_schema, self.modules.get(spec.name, {}),
                                     scope="module", who=f"provisioning module {spec.name}")
        except InvalidInput as error:
            raise ConfigurationError(error.message, details=error.details) from None

    def registrar_settings(self, spec: RegistrarSpec) -> dict[str, Any]:
        try:
            return validate_settings(spec.settings_schema, self.registrars.get(spec.name, {}),
                                     scope="module", who=f"registrar {spec.name}")
        except InvalidInput as error:
            raise ConfigurationError(error.message, details=error.details) from None


__all__ = ["HOOK", "TICKET_MODULE", "Installed", "ProvisioningConfig", "describe", "installed",
           "loaded", "module", "modules", "registrar", "registrars"]
