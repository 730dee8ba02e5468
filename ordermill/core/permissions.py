"""Roles and the permissions named after the actions they allow.

The core checks them in every action, so the API and the admin cannot disagree. PERMISSIONS
and ROLES are the core's own table; plugins add permissions with `register_permissions`
(PermissionSpec: name, label, the roles holding it; `admin` holds every permission).

`require(actor, name)` and `permissions_of(role)` are module functions called without the
app, so each app installs its plugins' permissions here when it starts (Ordermill() and
mill.refresh()). A process with several apps (the test suite, a CLI command that makes a
second app) sees the core's permissions plus the plugin permissions of every app still alive
in it; when two apps' plugins define one name differently, the app that installed last
wins. What one app offers (its staff page, its admin links) is `mill.permissions`. While the
web app serves a request it activates its own table (`activate`), so a request sees exactly
its app's permissions whatever else lives in the process.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token

import attrs

from ordermill.core.errors import ConfigurationError, PermissionDenied, PluginConflict
from ordermill.core.i18n import N_
from ordermill.core.i18n import gettext as _
from ordermill.core.specs import Actor, PermissionSpec

PERMISSIONS: dict[str, str] = {
    "view_orders": N_("See orders, payments and history"),
    "place_orders": N_("Place orders (storefront, admin 'Add New Order')"),
    "edit_orders": N_("Accept, cancel, add products, edit buyer, comment, dispatch"),
    "record_payments": N_("Record payments and mark orders paid"),
    "refund": N_("Refund money"),
    "manage_fraud": N_("Set as fraud, back to pending, re-run fraud checks"),
    "delete_orders": N_("Delete orders for good"),
    "bulk_change": N_("Change the status of many orders at once"),
    "export": N_("Export orders and payments as CSV"),
    "manage_staff": N_("Create staff users and tokens"),
    "manage_settings": N_("Edit statuses, bank details, fraud threshold"),
    "manage_jobs": N_("See and retry dead background jobs (e-mails, provisioning commands)"),
    "manage_catalogue": N_("Create and edit products, prices and stock"),
    "manage_promotions": N_("Create, edit and disable promo codes"),
    "manage_customers": N_("Edit, merge and export customers, keep notes about them"),
    "erase_customer_data": N_("Erase a customer's personal data for good (GDPR article 17)"),
}
# Personal-data powers stay with the admin unless a shop grants them (issue 19).
CUSTOMER_DATA_PERMISSIONS = frozenset({"manage_customers", "erase_customer_data"})

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "manager": frozenset(PERMISSIONS) - {"manage_staff", "manage_settings"}
    - CUSTOMER_DATA_PERMISSIONS,
    # Not manage_jobs: retrying dead jobs re-runs provisioning commands too, not only mail.
    "support": frozenset({"view_orders", "place_orders", "edit_orders", "record_payments",
                          "export"}),
    "viewer": frozenset({"view_orders"}),
    "customer": frozenset({"place_orders"}),
}
ALL_PERMISSIONS_ROLE = "admin"


@attrs.frozen
class PermissionTable:
    """Permissions with their labels, what each role holds, and which plugin owns which."""

    labels: Mapping[str, str]
    roles: Mapping[str, frozenset[str]]
    owners: Mapping[str, str] = attrs.field(factory=dict)

    def of(self, role: str | None) -> frozenset[str]:
        return self.roles.get(role or "", frozenset())

    def require(self, actor: Actor, permission: str) -> None:
        """Raise PermissionDenied unless the actor's role grants `permission`."""
        if actor.kind == "system":
            return
        if permission in self.of(actor.role):
            return
        label = self.labels.get(permission)
        what = label.lower() if label else f"use {permission!r} (no such permission)"
        raise PermissionDenied(_("%(name)s (%(value)s) may not %(what)s.", name=actor.name,
                                 value=actor.role or 'no role', what=what),
                               details={"permission": permission, "role": actor.role})


CORE_TABLE = PermissionTable(dict(PERMISSIONS), dict(ROLES))


def build_table(plugin_specs: Mapping[str, tuple[PermissionSpec, str]]) -> PermissionTable:
    """The core's table plus plugin permissions ({name: (spec, owner description)}).

    A plugin permission named like a core one is a PluginConflict naming both; a role that
    does not exist is a ConfigurationError naming the plugin.
    """
    labels = dict(PERMISSIONS)
    held = {role: set(permissions) for role, permissions in ROLES.items()}
    owners: dict[str, str] = {}
    for name, (spec, owner) in plugin_specs.items():
        if name in PERMISSIONS:
            raise PluginConflict(
                _("Conflicting plugins found for permission %(name)s: provided by ordermill (core) "
                  "and %(owner)s.", name=repr(name), owner=owner), details={"permission": name,
                                                 "plugins": ["ordermill", owner]})
        unknown = sorted(set(spec.roles) - set(ROLES))
        if unknown:
            raise ConfigurationError(
                f"Plugin {owner!r} gives permission {name!r} to unknown role "
                f"{unknown[0]!r}; roles are {', '.join(ROLES)}.",
                details={"plugin": owner, "permission": name})
        labels[name] = spec.label
        owners[name] = owner
        for role in {ALL_PERMISSIONS_ROLE, *spec.roles}:
            held[role].add(name)
    return PermissionTable(labels, {role: frozenset(names) for role, names in held.items()},
                           owners)


# ---- the process's registry: what require() and permissions_of() see --------------------

_lock = threading.RLock()
_installed: list[tuple[weakref.ref[object], PermissionTable]] = []
_merged: list[PermissionTable] = []  # the cached merge; empty when stale


def _forget_dead(_ref: object = None) -> None:
    """Weakref callback (may run inside any code during garbage collection): only drop the
    cached merge; dead entries are skipped wherever the list is read."""
    _merged.clear()


def install(app: object, table: PermissionTable) -> None:
    """Make `app`'s plugin permissions known to require() while the app is alive."""
    with _lock:
        _installed[:] = [(ref, old) for ref, old in _installed
                         if ref() is not None and ref() is not app]
        _installed.append((weakref.ref(app, _forget_dead), table))
        _merged.clear()


def _merge(tables: Iterable[PermissionTable]) -> PermissionTable:
    labels = dict(PERMISSIONS)
    owners: dict[str, str] = {}
    plugin_roles: dict[str, dict[str, frozenset[str]]] = {}
    for table in tables:  # later tables win
        for name, owner in table.owners.items():
            labels[name] = table.labels[name]
            owners[name] = owner
            plugin_roles[name] = {role: frozenset({name}) & held
                                  for role, held in table.roles.items()}
    held = {role: set(permissions) for role, permissions in ROLES.items()}
    for grants in plugin_roles.values():
        for role, names in grants.items():
            held.setdefault(role, set()).update(names)
    return PermissionTable(labels, {role: frozenset(names) for role, names in held.items()},
                           owners)


_active: ContextVar[PermissionTable | None] = ContextVar("ordermill_permissions", default=None)


def activate(table: PermissionTable) -> Token[PermissionTable | None]:
    """Use `table` alone in this context (a web request) until `deactivate(token)`."""
    return _active.set(table)


def deactivate(token: Token[PermissionTable | None]) -> None:
    _active.reset(token)


def current() -> PermissionTable:
    """The active app's table (in a request), else the core's table merged with every live
    app's plugin permissions."""
    active = _active.get()
    if active is not None:
        return active
    with _lock:
        if not _merged:
            _merged.append(_merge(table for ref, table in _installed if ref() is not None))
        return _merged[0]


def all_permissions() -> Mapping[str, str]:
    """{name: label} of the core's and the installed plugins' permissions."""
    return current().labels


def permissions_of(role: str | None) -> frozenset[str]:
    return current().of(role)


def require(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied unless the actor's role grants `permission`."""
    current().require(actor, permission)
