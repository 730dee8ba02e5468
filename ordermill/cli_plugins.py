"""Plugin commands on the `ordermill` command line: the `register_commands(cli)` hook.

The root group's class is `with_plugin_commands(<the CLI's own group class>)`. It finds the
plugins as the app does (ORDERMILL_LOAD_PLUGINS, ORDERMILL_BLOCK_PLUGINS,
ORDERMILL_STRICT_PLUGINS, read from the environment) without opening a database, and asks
each plugin for its commands once per process and plugin choice, only when a command name
is not the core's or when --help lists them: the core's own commands never load a plugin.
A plugin that fails to load or to register its commands is logged and skipped, so
`ordermill --help` always works; a command name the core or another plugin already has is
skipped with an error naming the plugin. A blocked plugin's commands do not exist.

A plugin command gets the app with `current_mill()` (made from the environment once per
command line, like the core's commands, and disposed at the end).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from ordermill.core.plugins import PluginHost, installed_entry_points
from ordermill.core.settings import Settings

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.plugins")
CacheKey = tuple[Any, ...]
_FOUND: dict[CacheKey, dict[str, click.Command]] = {}


def plugin_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The plugin choices of the environment. The database URL is an in-memory one so that
    listing commands makes no instance folder and no key file."""
    return Settings.from_env(env=env, database_url="sqlite://")


def plugin_commands(settings: Settings, reserved: Iterable[str] = ()) -> dict[str, click.Command]:
    """{name: command} the settings' plugins add, asked once per plugin choice and installed
    set of entry points; `reserved` are the core's command names."""
    taken = tuple(sorted(reserved))
    key: CacheKey = (settings.load_plugins, settings.block_plugins, settings.strict_plugins,
                     tuple((ep.name, ep.value) for ep in installed_entry_points()), taken)
    if key not in _FOUND:
        _FOUND[key] = _collect(settings, set(taken))
    return _FOUND[key]


def _collect(settings: Settings, reserved: set[str]) -> dict[str, click.Command]:
    try:
        host = PluginHost(settings)
    except Exception as error:  # a broken plugin must not take the command line down
        log.error("plugin commands are not available: %s", error)
        return {}
    found: dict[str, click.Command] = {}
    owners: dict[str, str] = {}
    for plugin in host.implementers("register_commands"):
        staging = click.Group("ordermill")
        try:
            host.call_one(plugin, "register_commands", cli=staging)
        except Exception as error:
            log.error("skipping the commands of plugin %s: %s", host.describe(plugin), error)
            continue
        for name, command in staging.commands.items():
            if name in reserved:
                log.error("plugin %s adds the command %r, which ordermill has; skipped",
                          host.describe(plugin), name)
            elif name in found:
                log.error("plugins %s and %s both add the command %r; %s's is kept",
                          host.describe(owners[name]), host.describe(plugin), name,
                          owners[name])
            else:
                found[name] = command
                owners[name] = plugin
    return found


class PluginCommands(click.Group):
    """Root-group behaviour: the core's commands, then those the plugins register."""

    def _plugin_commands(self) -> Mapping[str, click.Command]:
        try:
            settings = plugin_settings()
        except Exception as error:  # e.g. a malformed ORDERMILL_* value: the core says so
            log.error("plugin commands are not available: %s", error)
            return {}
        return plugin_commands(settings, reserved=self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        return command if command is not None else self._plugin_commands().get(cmd_name)


def with_plugin_commands(base: type[click.Group]) -> type[click.Group]:
    """`base` (the CLI's root group class) that also offers the plugins' commands."""
    return type(base.__name__, (PluginCommands, base),
                {"__doc__": base.__doc__, "__module__": base.__module__})


def current_mill() -> Ordermill:
    """The app of the running command line, for a plugin's command (shared with the core's
    commands of the same invocation, disposed when it ends)."""
    from ordermill.cli import get_mill  # the CLI's own: one app per command line

    return get_mill()


__all__ = ["PluginCommands", "current_mill", "plugin_commands", "plugin_settings",
           "with_plugin_commands"]
