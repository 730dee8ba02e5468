"""The hook the provisioning plugin defines for other plugins: `register_provisioning_modules`.

The plugin adds it with `add_hookspecs` (see its `__init__`), so it exists exactly when the
provisioning plugin is loaded. Modules and registrars come from plugins implementing it, the
built-in `webhook` and `etickets` modules included (entry points `provisioning_webhook` and
`provisioning_etickets`): `ordermill plugins` lists them, ORDERMILL_LOAD_PLUGINS and
ORDERMILL_BLOCK_PLUGINS govern them, and a blocked provisioning plugin leaves their
`@hookimpl(optionalhook=True)` implementations uncalled. docs/hooks.md, "Hooks defined by
plugins", is the manual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ordermill.hookspecs import hookspec, register_hook

if TYPE_CHECKING:
    from ordermill.api import Settings
    from ordermill.plugins.provisioning.specs import ProvisioningModuleSpec, RegistrarSpec


@hookspec
@register_hook
def register_provisioning_modules(
    settings: Settings,
) -> Iterable[ProvisioningModuleSpec | RegistrarSpec] | None:
    """Add provisioning modules and domain registrars. Register hook of `provisioning`.

    Return ProvisioningModuleSpec objects (create / suspend / unsuspend / terminate a service
    on a panel) and RegistrarSpec objects (register / transfer a domain), from
    `ordermill.plugins.provisioning.specs`. Products name a module in `provisioning_module`;
    accept options and `default_registrar` name a registrar. Two plugins returning a module
    (or a registrar) of the same name fail with a PluginConflict naming both; an object of
    another type is a PluginError naming your plugin. Implement it with
    `@hookimpl(optionalhook=True)`: when `provisioning` is blocked or absent it is never
    called.
    """


HOOK_NAMES = ("register_provisioning_modules",)

__all__ = ["HOOK_NAMES", "register_provisioning_modules"]
