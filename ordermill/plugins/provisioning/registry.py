"""Which modules and registrars exist, and the plugin's configuration.

Built in: the `webhook` and `etickets` modules and the `webhook` registrar. Other packages add
modules through the entry-point group `ordermill.provisioning_modules`: each entry point loads
a ProvisioningModuleSpec or RegistrarSpec, or a list of them. A duplicate name fails loudly,
naming both sources, as the core does for gateways.

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

import functools
import importlib.metadata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ordermill.api import ConfigurationError, InvalidInput, Settings
from ordermill.plugins.provisioning import etickets, webhook
from ordermill.plugins.provisioning.specs import (
    ProvisioningModuleSpec,
    RegistrarSpec,
    validate_settings,
)

PLUGIN = "provisioning"
ENTRY_POINT_GROUP = "ordermill.provisioning_modules"
TICKET_MODULE = etickets.NAME


@functools.cache
def _specs() -> tuple[dict[str, ProvisioningModuleSpec], dict[str, RegistrarSpec]]:
    modules: dict[str, ProvisioningModuleSpec] = {}
    registrars: dict[str, RegistrarSpec] = {}
    sources: dict[tuple[str, str], str] = {}

    def add(spec: Any, source: str) -> None:
        table: dict[str, Any]
        if isinstance(spec, ProvisioningModuleSpec):
            table, what = modules, "module"
        elif isinstance(spec, RegistrarSpec):
            table, what = registrars, "registrar"
        else:
            raise ConfigurationError(f"{source} gave {spec!r}, not a provisioning module or "
                                     f"registrar spec.")
        if spec.name in table:
            raise ConfigurationError(
                f"Conflicting provisioning {what}s named {spec.name!r}: provided by "
                f"{sources[(what, spec.name)]} and {source}.")
        table[spec.name] = spec
        sources[(what, spec.name)] = source

    for spec in (webhook.MODULE, etickets.MODULE, webhook.REGISTRAR):
        add(spec, "ordermill (built in)")
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        loaded = entry_point.load()
        items: Iterable[Any] = loaded if isinstance(loaded, list | tuple) else [loaded]
        for item in items:
            add(item, f"entry point {entry_point.name!r} ({entry_point.value})")
    return modules, registrars


def modules() -> Mapping[str, ProvisioningModuleSpec]:
    return _specs()[0]


def registrars() -> Mapping[str, RegistrarSpec]:
    return _specs()[1]


def module(name: str) -> ProvisioningModuleSpec:
    found = modules().get(name)
    if found is None:
        raise InvalidInput(f"Unknown provisioning module {name!r}; installed: "
                           f"{', '.join(sorted(modules()))}.", details={"module": name})
    return found


def registrar(name: str) -> RegistrarSpec:
    found = registrars().get(name)
    if found is None:
        raise InvalidInput(f"Unknown registrar {name!r}; installed: "
                           f"{', '.join(sorted(registrars()))}.", details={"registrar": name})
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


__all__ = ["ENTRY_POINT_GROUP", "TICKET_MODULE", "ProvisioningConfig", "module", "modules",
           "registrar", "registrars"]
