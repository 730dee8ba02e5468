"""The plugin manager: loads plugins from the `ordermill` entry-point group and calls hooks.

Built-in plugins are found the same way as third-party ones (ordermill's own pyproject lists
them under [project.entry-points.ordermill]). This module is the only code that touches
`pm.hook`: everything else calls `host.call(name, **kwargs)`, which reads the hook's policy
from its spec (kind tag and firstresult, see ordermill.hookspecs) and answers a HookOutcome.

Loading is in three steps, so load order never matters: every wanted plugin is registered,
then every plugin's `add_hookspecs` adds the hooks it owns, then every plugin is checked (an
unknown hook name fails with a did-you-mean naming the plugin; an `optionalhook=True`
implementation of a hook nobody defines is kept and never called).

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
import types
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

import attrs
import pluggy

from ordermill import hookspecs
from ordermill.core.errors import OrdermillError, PluginConflict, PluginError, PluginLoadError
from ordermill.core.settings import Settings
from ordermill.hookspecs import Dispatch, dispatch_of

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


@attrs.frozen
class HookOutcome:
    """What one `host.call` gave: every answer and, where the hook collects them, failures.

    `results` are (plugin name, value) pairs of the implementations that answered non-None,
    in calling order (a firstresult hook stops at the first); `failures` are the exceptions
    of a hook whose errors are collected (after-commit hooks, fraud_check).
    """

    hook: str
    results: tuple[tuple[str, Any], ...] = ()
    failures: tuple[HookFailure, ...] = ()

    @property
    def values(self) -> list[Any]:
        return [value for _plugin, value in self.results]

    @property
    def first(self) -> Any:
        """The first answer (what a firstresult hook decided), or None."""
        return self.results[0][1] if self.results else None

    @property
    def first_plugin(self) -> str | None:
        return self.results[0][0] if self.results else None


class UnknownHook(LookupError):
    """`host.call` of a name no loaded hookspec defines (a typo, or an absent plugin's)."""


@attrs.frozen
class _Entry:
    plugin: object
    name: str
    source: str = "registered"
    distribution: str | None = None
    version: str | None = None


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


_DISTS: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}


def _dist_of(entry_point: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    """(distribution name, version) of an entry point, read once per process: parsing a
    distribution's METADATA file costs about 2 ms, paid by every app a test run makes."""
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    key = (entry_point.name, entry_point.value, str(getattr(dist, "_path", "")))
    if key not in _DISTS:
        _DISTS[key] = _read_dist(dist)
    return _DISTS[key]


def _read_dist(dist: Any) -> tuple[str | None, str | None]:
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


class HookspecAdder:
    """The `pm` that `add_hookspecs(pm)` gets: `pm.add_hookspecs(module_or_class)` adds the
    calling plugin's hookspecs, checked for kind tags and name clashes and owned by it."""

    def __init__(self, host: PluginHost, plugin_name: str) -> None:
        self._host = host
        self._plugin_name = plugin_name

    def add_hookspecs(self, module_or_class: object) -> None:
        self._host._adopt_hookspecs(self._plugin_name, module_or_class)

    def __repr__(self) -> str:
        return f"<hookspecs of plugin {self._plugin_name!r}>"


_ABSENT = object()


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering which names of a module plugin are hook implementations.

    Every app (each CLI run, each test) builds a manager and registers the same built-in
    modules; pluggy inspects every name of every module each time (`inspect.getattr_static`
    per name), which was most of the cost of building one. A module's answers (hook
    implementations and hook specifications) are kept while it holds the same object under
    that name.
    """

    _found: ClassVar[weakref.WeakKeyDictionary[types.ModuleType,
                                               dict[tuple[str, str], tuple[object, Any]]]] = \
        weakref.WeakKeyDictionary()

    def _remembered(self, kind: str, holder: Any, name: str,
                    parse: Callable[[Any, str], Any]) -> Any:
        if not isinstance(holder, types.ModuleType):
            return parse(holder, name)
        value = holder.__dict__.get(name, _ABSENT)
        known = self._found.setdefault(holder, {})
        hit = known.get((kind, name))
        if hit is not None and hit[0] is value:
            return hit[1]
        opts = parse(holder, name)
        known[kind, name] = (value, opts)
        return opts

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        return self._remembered("impl", plugin, name, super().parse_hookimpl_opts)

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
        return self._remembered("spec", module_or_class, name, super().parse_hookspec_opts)


class PluginHost:
    """A pluggy PluginManager with ordermill's loading rules and one way to call a hook."""

    def __init__(self, settings: Settings, *, load_entry_points: bool = True) -> None:
        self.settings = settings
        self.pm: pluggy.PluginManager = _PluginManager("ordermill")
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, tuple[str, str | None, str | None]] = {}
        self._spec_owners: dict[str, str | None] = {
            name: None for name, _spec in hookspecs.declared_specs(vars(hookspecs))}
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
        entries: list[_Entry] = []
        for entry_point in installed_entry_points():
            if not self._wanted(entry_point.name) or self.pm.has_plugin(entry_point.name) \
                    or any(entry.name == entry_point.name for entry in entries):
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
            entries.append(_Entry(plugin, entry_point.name, "entry point", dist_name, version))
        self._register_batch(entries)

    def register(self, plugin: object, name: str, *, source: str = "registered",
                 distribution: str | None = None, version: str | None = None) -> None:
        """Register a plugin object (a module or an instance with @hookimpl methods).

        Its `add_hookspecs` runs, then it is checked: a hook implementation that names no
        hook (a typo such as `on_acept`), takes an argument its hook does not have, or is a
        wrapper fails here with a PluginLoadError naming the plugin, and the plugin is left
        unregistered. To add plugins that use each other's hooks, use register_all.
        """
        self._register_batch([_Entry(plugin, name, source, distribution, version)])

    def register_all(self, plugins: Iterable[tuple[object, str]], *,
                     source: str = "registered") -> None:
        """Register (plugin, name) pairs as entry points are: all, then their hookspecs,
        then the checks, so the order of the pairs never matters. All or none stay."""
        self._register_batch([_Entry(plugin, name, source) for plugin, name in plugins])

    def _register_batch(self, entries: Sequence[_Entry]) -> None:
        added: list[_Entry] = []
        specs_before = set(self._spec_owners)
        try:
            for entry in entries:
                self._register_one(entry)
                added.append(entry)
            for entry in added:
                self._add_hookspecs_of(entry.name)
            for entry in added:
                self._check_plugin(entry.plugin, self.describe(entry.name))
        except Exception:
            for entry in added:
                if self.pm.is_registered(entry.plugin):
                    self.pm.unregister(entry.plugin)
                self._sources.pop(entry.name, None)
            self._forget_hookspecs(set(self._spec_owners) - specs_before)
            raise

    def _register_one(self, entry: _Entry) -> None:
        who = f"{entry.name} ({entry.distribution} {entry.version})" if entry.distribution \
            else entry.name
        try:
            self.pm.register(entry.plugin, name=entry.name)
        except pluggy.PluginValidationError as error:
            if self.pm.is_registered(entry.plugin):  # pluggy leaves a half-registered plugin
                self.pm.unregister(entry.plugin)
            raise PluginLoadError(
                f"Plugin {who!r} cannot be registered: {error}",
                details={"plugin": entry.name, "distribution": entry.distribution},
            ) from error
        self._sources[entry.name] = (entry.source, entry.distribution, entry.version)

    def _add_hookspecs_of(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        for impl in self._impls("add_hookspecs"):
            if impl.plugin is plugin:
                self._call_naming_plugin(impl, "add_hookspecs",
                                         {"pm": HookspecAdder(self, name)})

    def _adopt_hookspecs(self, owner: str, module_or_class: object) -> None:
        """pm.add_hookspecs for plugin `owner`: every spec needs a kind tag and a name that
        neither the core nor another plugin defines."""
        who = self.describe(owner)
        found = {name: getattr(module_or_class, name) for name in dir(module_or_class)
                 if self.pm.parse_hookspec_opts(module_or_class, name) is not None}
        if not found:
            raise PluginLoadError(
                f"Plugin {who!r} called add_hookspecs with {module_or_class!r}, which has no "
                f"function marked with ordermill.hookspecs.hookspec.",
                details={"plugin": owner})
        new: dict[str, Any] = {}
        for name, spec in found.items():
            if dispatch_of(spec) is None:
                raise PluginLoadError(
                    f"Plugin {who!r} defines hook {name!r} without a kind: tag it with "
                    f"@register_hook, @in_transaction or @after_commit from "
                    f"ordermill.hookspecs.", details={"plugin": owner, "hook": name})
            caller = getattr(self.pm.hook, name, None)
            if caller is not None and caller.has_spec():
                if self._spec_owners.get(name) == owner and caller.spec is not None \
                        and caller.spec.function is spec:
                    continue  # the same plugin adding the same spec again
                other = self._spec_owners.get(name)
                raise PluginConflict(
                    f"Conflicting plugins found for hook {name!r}: defined by "
                    f"{self.describe(other) if other else 'ordermill (core)'} and {who}.",
                    details={"hook": name, "plugins": [other or "ordermill", owner]})
            new[name] = spec
        if not new:
            return
        self._spec_owners.update(dict.fromkeys(new, owner))
        try:
            self.pm.add_hookspecs(types.SimpleNamespace(**new))
        except pluggy.PluginValidationError as error:
            culprit = self.pm.get_name(error.plugin) or repr(error.plugin)
            raise PluginLoadError(
                f"Plugin {self.describe(culprit)!r} cannot implement a hook that "
                f"{who} defines: {error}", details={"plugin": culprit}) from error

    def _forget_hookspecs(self, names: Iterable[str]) -> None:
        """Undo hookspecs a failed registration added (pluggy cannot remove a spec)."""
        for name in names:
            self._spec_owners.pop(name, None)
            caller = getattr(self.pm.hook, name, None)
            if caller is None:
                continue
            if caller.get_hookimpls():
                caller.spec = None  # what optional implementations of it remain: unspecified
            else:
                delattr(self.pm.hook, name)

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
        """Unregister a plugin. Hookspecs it added stay (pluggy keeps them), never called."""
        self.pm.unregister(name=name)
        self._sources.pop(name, None)

    def describe(self, name: str) -> str:
        """'name (dist version)' for error messages."""
        _source, dist, version = self._sources.get(name, ("registered", None, None))
        return f"{name} ({dist} {version})" if dist else name

    def spec_owner(self, hook_name: str) -> str | None:
        """The plugin that defined a hook with add_hookspecs; None for the core's hooks."""
        return self._spec_owners.get(hook_name)

    def plugin_infos(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            source, dist, version = self._sources.get(name, ("registered", None, None))
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ())
            infos.append(PluginInfo(name, version, source, dist, tuple(hooks)))
        return sorted(infos, key=lambda info: info.name)

    # ---- calling --------------------------------------------------------------------------

    def dispatch(self, hook_name: str) -> tuple[Dispatch, bool]:
        """(the spec's Dispatch, its firstresult) of a hook; UnknownHook when none defines it."""
        caller = getattr(self.pm.hook, hook_name, None)
        spec = caller.spec if caller is not None else None
        found = dispatch_of(spec.function) if spec is not None else None
        if spec is None or found is None:
            raise UnknownHook(f"No hook named {hook_name!r} is defined (by the core or a loaded "
                              f"plugin's add_hookspecs).")
        return found, bool(spec.opts.get("firstresult"))

    def call(self, hook_name: str, **kwargs: Any) -> HookOutcome:
        """Call a hook with the policy its spec declares (see ordermill.hookspecs).

        Errors "raise": the first exception stops the call, as a PluginError naming the
        plugin (an OrdermillError raised on purpose keeps its type, with the plugin's name
        appended). Errors "collect": each exception is logged and becomes a HookFailure, and
        the other plugins still run. firstresult: stop at the first non-None answer. A
        register hook's `settings` defaults to this host's settings.
        """
        return self._call(hook_name, self._impls(hook_name), kwargs)

    def call_one(self, plugin_name: str, hook_name: str, **kwargs: Any) -> HookOutcome:
        """`call` for one plugin's implementation only (nothing when it has none)."""
        impls = [impl for impl in self._impls(hook_name) if impl.plugin_name == plugin_name]
        return self._call(hook_name, impls, kwargs)

    def implementers(self, hook_name: str) -> list[str]:
        """Plugins implementing a hook, in calling order."""
        return [impl.plugin_name for impl in self._impls(hook_name)]

    def _call(self, hook_name: str, impls: list[pluggy.HookImpl],
              kwargs: dict[str, Any]) -> HookOutcome:
        dispatch, firstresult = self.dispatch(hook_name)
        if dispatch.kind == "register" and "settings" not in kwargs:
            spec = getattr(self.pm.hook, hook_name).spec
            if "settings" in spec.argnames:
                kwargs = {**kwargs, "settings": self.settings}
        return self._run(hook_name, impls, kwargs, dispatch.errors, firstresult)

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        # pluggy calls the last registered first (tryfirst/trylast respected): same order here.
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None:
            return []
        return [impl for impl in reversed(caller.get_hookimpls())
                if not impl.hookwrapper and not impl.wrapper]

    def _run(self, hook_name: str, impls: list[pluggy.HookImpl], kwargs: dict[str, Any],
             errors: str, firstresult: bool) -> HookOutcome:
        results: list[tuple[str, Any]] = []
        failures: list[HookFailure] = []
        for impl in impls:
            if errors == "raise":
                result = self._call_naming_plugin(impl, hook_name, kwargs)
            else:
                try:
                    result = self._call_one(impl, hook_name, kwargs)
                except Exception as error:
                    log.exception("plugin %r failed in %s", impl.plugin_name, hook_name)
                    failures.append(HookFailure(impl.plugin_name, hook_name,
                                                f"{type(error).__name__}: {error}"))
                    continue
            if result is not None:
                results.append((impl.plugin_name, result))
                if firstresult:
                    break
        return HookOutcome(hook_name, tuple(results), tuple(failures))

    def _call_one(self, impl: pluggy.HookImpl, hook_name: str, kwargs: dict[str, Any]) -> Any:
        args = [kwargs[name] for name in impl.argnames]
        if self.settings.trace_plugins:
            log.info("hook %s -> %s", hook_name, impl.plugin_name)
        return impl.function(*args)

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

    # ---- register hooks -------------------------------------------------------------------

    def collect_owned_specs(self, hook_name: str, key: Callable[[T], str], what: str,
                            **kwargs: Any) -> dict[str, tuple[T, str]]:
        """Flatten a register hook's lists into {name: (spec, plugin)}, failing on a
        duplicate name with a PluginConflict naming both plugins and distributions."""
        found: dict[str, tuple[T, str]] = {}
        for plugin_name, specs in self.call(hook_name, **kwargs).results:
            try:
                items = list(specs)
            except TypeError as error:
                raise PluginError(self.describe(plugin_name), hook_name,
                                  f"returned {specs!r}, not a list of {what} specs") from error
            for spec in items:
                try:
                    name = key(spec)
                except Exception as error:
                    raise PluginError(self.describe(plugin_name), hook_name,
                                      f"returned {spec!r}, not a {what} spec") from error
                if name in found:
                    owner = found[name][1]
                    raise PluginConflict.between(what, name, self.describe(owner),
                                                 self.describe(plugin_name),
                                                 [owner, plugin_name])
                found[name] = (spec, plugin_name)
        return found

    def collect_specs(self, hook_name: str, key: Callable[[T], str], what: str,
                      **kwargs: Any) -> dict[str, T]:
        """Flatten a register hook's lists into {name: spec}, failing on a duplicate name."""
        return {name: spec for name, (spec, _plugin)
                in self.collect_owned_specs(hook_name, key, what, **kwargs).items()}

    def status_sources(self) -> Iterable[tuple[str, Iterable[Any]]]:
        for plugin_name, specs in self.call("register_statuses").results:
            yield self.describe(plugin_name), list(specs)
