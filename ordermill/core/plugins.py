"""The plugin manager: loads plugins from the `ordermill` entry-point group and calls hooks.

Built-in plugins are found the same way as third-party ones (ordermill's own pyproject lists
them under [project.entry-points.ordermill]). This module is the only code that touches
`pm.hook`: everything else calls the typed methods below, which decide per hook kind whether
an exception propagates (in-transaction, naming the plugin) or is collected (after commit).

Environment (read into Settings when the app is made):
  ORDERMILL_LOAD_PLUGINS=a,b   load only these entry points
  ORDERMILL_BLOCK_PLUGINS=c    never load these
  ORDERMILL_TRACE_PLUGINS=1    log every hook call with its plugin
  ORDERMILL_STRICT_PLUGINS=1   a plugin that fails to import stops start-up
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs
import pluggy

from ordermill import hookspecs
from ordermill.core.errors import OrdermillError, PluginConflict, PluginError, PluginLoadError
from ordermill.core.settings import Settings

log = logging.getLogger("ordermill.plugins")
ENTRY_POINT_GROUP = "ordermill"
T = TypeVar("T")


@attrs.frozen
class PluginInfo:
    """One loaded plugin as `ordermill plugins` shows it."""

    name: str
    version: str | None
    source: str
    distribution: str | None
    hooks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class LoadFailure:
    name: str
    distribution: str | None
    error: str


@attrs.frozen
class HookFailure:
    """An after-commit hook implementation that raised; the core records it on the order."""

    plugin: str
    hook: str
    error: str


_SCANS: dict[tuple[tuple[str, int], ...], tuple[importlib.metadata.EntryPoint, ...]] = {}


def _path_state() -> tuple[tuple[str, int], ...]:
    """sys.path with each folder's mtime: installing a distribution changes one of them."""
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, -1))
    return tuple(state)


def installed_entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    """The `ordermill` entry points, scanned once per process and search path.

    Scanning every installed distribution's metadata costs tens of milliseconds, which a
    process that makes many PluginHosts (a test run) paid each time; the scan is redone
    when sys.path or one of its folders changes, as installing a plugin does.
    """
    state = _path_state()
    if state not in _SCANS:
        _SCANS.clear()
        _SCANS[state] = tuple(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    return _SCANS[state]


def _dist_of(entry_point: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def missing_dependency_hint(entry_point: importlib.metadata.EntryPoint,
                            error: BaseException) -> str | None:
    """'plugin X needs the package Y: pip install ...' when the plugin imported fine itself
    but a package it needs is not installed; None for any other import failure.

    The package is looked up in the plugin distribution's requirements (an import name such
    as `paypalserversdk` matches the requirement `paypal-server-sdk` once both are reduced
    to letters and digits); a module the plugin does not declare is named as it is.
    """
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    missing = error.name.split(".")[0]
    if missing == entry_point.module.split(".")[0]:
        return None  # part of the plugin's own package is gone: a broken install
    package, extra = missing, None
    dist = getattr(entry_point, "dist", None)
    for line in (dist.requires or []) if dist is not None else []:
        requirement, _, marker = line.partition(";")
        name = re.split(r"[\s\[<>=!~(]", requirement.strip(), maxsplit=1)[0]
        if _normalise(name) == _normalise(missing):
            package = requirement.strip()
            found = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            extra = found.group(1) if found else None
            break
    name = re.split(r"[\s\[<>=!~(]", package, maxsplit=1)[0]
    install = f"pip install '{dist.metadata['Name']}[{extra}]'" if extra and dist is not None \
        else f"pip install '{package}'"
    return f"plugin {entry_point.name} needs the package {name}: {install}"


class PluginHost:
    """A pluggy PluginManager with ordermill's loading rules and typed hook calls."""

    def __init__(self, settings: Settings, *, load_entry_points: bool = True) -> None:
        self.settings = settings
        self.pm = pluggy.PluginManager("ordermill")
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, tuple[str, str | None, str | None]] = {}
        self.failures: list[LoadFailure] = []
        if load_entry_points:
            self._load_entry_points()
        self.pm.check_pending()

    # ---- loading --------------------------------------------------------------------------

    def _wanted(self, name: str) -> bool:
        if name in self.settings.block_plugins:
            return False
        return self.settings.load_plugins is None or name in self.settings.load_plugins

    def _load_entry_points(self) -> None:
        for entry_point in installed_entry_points():
            if not self._wanted(entry_point.name) or self.pm.has_plugin(entry_point.name):
                continue
            dist_name, version = _dist_of(entry_point)
            try:
                plugin = entry_point.load()
            except Exception as error:  # a broken plugin must not take the shop down
                hint = missing_dependency_hint(entry_point, error)
                failure = LoadFailure(
                    entry_point.name, dist_name,
                    f"{type(error).__name__}: {error}" + (f". {hint}" if hint else ""),
                )
                if self.settings.strict_plugins:
                    raise PluginLoadError(
                        f"Plugin {entry_point.name!r} ({dist_name}) failed to import: "
                        f"{failure.error}",
                        details={"plugin": entry_point.name, "distribution": dist_name},
                    ) from error
                if hint:  # an optional extra not installed: a choice, not a fault
                    log.info("%s", hint)
                else:
                    log.error("skipping plugin %r (%s): %s", entry_point.name, dist_name,
                              failure.error)
                self.failures.append(failure)
                continue
            self.register(plugin, entry_point.name, source="entry point",
                          distribution=dist_name, version=version)

    def register(self, plugin: object, name: str, *, source: str = "registered",
                 distribution: str | None = None, version: str | None = None) -> None:
        """Register a plugin object (a module or an instance with @hookimpl methods).

        A hook implementation that names no hook (a typo such as `on_acept`), takes an
        argument its hook does not have, or is a wrapper fails here with a PluginLoadError
        naming the plugin, and the plugin is left unregistered.
        """
        who = f"{name} ({distribution} {version})" if distribution else name
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as error:
            if self.pm.is_registered(plugin):  # pluggy leaves a half-registered plugin behind
                self.pm.unregister(plugin)
            raise PluginLoadError(
                f"Plugin {who!r} cannot be registered: {error}",
                details={"plugin": name, "distribution": distribution},
            ) from error
        try:
            self._check_plugin(plugin, who)
        except PluginLoadError:
            self.pm.unregister(plugin)
            raise
        self._sources[name] = (source, distribution, version)

    def _check_plugin(self, plugin: object, who: str) -> None:
        """check_pending() for one plugin, with a did-you-mean; wrappers are refused."""
        for caller in self.pm.get_hookcallers(plugin) or ():
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if not caller.has_spec():
                if all(impl.optionalhook for impl in impls):
                    continue
                close = difflib.get_close_matches(caller.name, self._spec_names(), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise PluginLoadError(
                    f"Plugin {who!r} implements unknown hook {caller.name!r}.{hint} "
                    f"See docs/hooks.md for the hooks ordermill calls.",
                    details={"plugin": who, "hook": caller.name},
                )
            if any(impl.wrapper or impl.hookwrapper for impl in impls):
                raise PluginLoadError(
                    f"Plugin {who!r} declares {caller.name!r} as a wrapper; ordermill calls "
                    f"each implementation itself and does not support hook wrappers.",
                    details={"plugin": who, "hook": caller.name},
                )

    def _spec_names(self) -> list[str]:
        return [name for name in vars(self.pm.hook)
                if not name.startswith("_") and getattr(self.pm.hook, name).has_spec()]

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._sources.pop(name, None)

    def describe(self, name: str) -> str:
        """'name (dist version)' for error messages."""
        _source, dist, version = self._sources.get(name, ("registered", None, None))
        return f"{name} ({dist} {version})" if dist else name

    def plugin_infos(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            source, dist, version = self._sources.get(name, ("registered", None, None))
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ())
            infos.append(PluginInfo(name, version, source, dist, tuple(hooks)))
        return sorted(infos, key=lambda info: info.name)

    # ---- calling --------------------------------------------------------------------------

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        # pluggy calls the last registered first (tryfirst/trylast respected): same order here.
        return [impl for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls())
                if not impl.hookwrapper and not impl.wrapper]

    def _call_one(self, impl: pluggy.HookImpl, hook_name: str, kwargs: dict[str, Any]) -> Any:
        args = [kwargs[name] for name in impl.argnames]
        if self.settings.trace_plugins:
            log.info("hook %s -> %s", hook_name, impl.plugin_name)
        return impl.function(*args)

    def call_in_transaction(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation; the first exception aborts, as a PluginError naming it.

        An OrdermillError the plugin raised on purpose (e.g. InvalidInput to refuse an order)
        keeps its type and gets the plugin's name prepended to its message.
        """
        results = []
        for impl in self._impls(hook_name):
            result = self._call_naming_plugin(impl, hook_name, kwargs)
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def first_result(self, hook_name: str, **kwargs: Any) -> tuple[str, Any] | None:
        """For firstresult hooks: the first plugin that returns non-None, and its answer.

        Errors propagate as in call_in_transaction, naming the plugin.
        """
        for impl in self._impls(hook_name):
            result = self._call_naming_plugin(impl, hook_name, kwargs)
            if result is not None:
                return impl.plugin_name, result
        return None

    def _call_naming_plugin(self, impl: pluggy.HookImpl, hook_name: str,
                            kwargs: dict[str, Any]) -> Any:
        try:
            return self._call_one(impl, hook_name, kwargs)
        except OrdermillError as error:
            if not isinstance(error, PluginError) and "plugin" not in error.details:
                error.message = f"{error.message} (from plugin {impl.plugin_name!r})"
                error.details["plugin"] = impl.plugin_name
                error.args = (error.message,)
            raise
        except Exception as error:
            raise PluginError(self.describe(impl.plugin_name), hook_name, error) from error

    def call_collecting(self, hook_name: str, **kwargs: Any) -> tuple[
        list[tuple[str, Any]], list[HookFailure]
    ]:
        """Call every implementation, collecting results and failures; nothing propagates."""
        results, failures = [], []
        for impl in self._impls(hook_name):
            try:
                result = self._call_one(impl, hook_name, kwargs)
            except Exception as error:
                log.exception("plugin %r failed in %s", impl.plugin_name, hook_name)
                failures.append(HookFailure(impl.plugin_name, hook_name,
                                            f"{type(error).__name__}: {error}"))
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results, failures

    def call_after_commit(self, hook_name: str, **kwargs: Any) -> list[HookFailure]:
        return self.call_collecting(hook_name, **kwargs)[1]

    def collect_specs(self, hook_name: str, key: Callable[[T], str], what: str) -> dict[str, T]:
        """Flatten a register hook's lists into {name: spec}, failing on a duplicate name."""
        found: dict[str, T] = {}
        owners: dict[str, str] = {}
        for plugin_name, specs in self.call_in_transaction(hook_name, settings=self.settings):
            for spec in specs:
                try:
                    name = key(spec)
                except Exception as error:
                    raise PluginError(self.describe(plugin_name), hook_name,
                                      f"returned {spec!r}, not a {what} spec") from error
                if name in found:
                    raise PluginConflict(
                        f"Conflicting plugins found for {what} {name!r}: provided by "
                        f"{self.describe(owners[name])} and {self.describe(plugin_name)}.",
                        details={what: name, "plugins": [owners[name], plugin_name]},
                    )
                found[name] = spec
                owners[name] = plugin_name
        return found

    def status_sources(self) -> Iterable[tuple[str, Iterable[Any]]]:
        for plugin_name, specs in self.call_in_transaction(
            "register_statuses", settings=self.settings
        ):
            yield self.describe(plugin_name), list(specs)
