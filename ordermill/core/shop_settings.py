"""Settings an admin edits at run time, stored as JSON rows of the Setting table.

They override the start-up configuration (Settings) for the few things a shop owner changes
from the admin: custom statuses, the fraud threshold, and the settings pages plugins add
(`admin_settings_pages`: bank details, e-mail sender, ...). Writing one clears the app's cached
registries so the change applies at once in this process.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core.admin_specs import SettingField, SettingsPage, settings_pages
from ordermill.core.errors import ConfigurationError, InvalidInput, PermissionDenied
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Setting, utcnow
from ordermill.core.permissions import PERMISSIONS, require
from ordermill.core.persistent import held
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

FRAUD_THRESHOLD = "fraud_threshold"
CUSTOM_STATUSES = "custom_statuses"


def read_setting(mill: Ordermill, key: str, *, session: Session | None = None
                 ) -> dict[str, Any]:
    """One stored row (empty when none); in `session` when given, e.g. an action's own.

    In a session, the first read of a transaction reads every row's value (a handful) in one
    Core query, so an action reading several settings (rounding, seller, a plugin's page)
    pays once, and less than an ORM query of the rows cost (a twentieth of a placement)."""
    if session is not None:
        return dict(_in_transaction(session, key) or {})
    with mill.read_session() as own:
        row = own.get(Setting, key)
        return dict(row.value or {}) if row is not None else {}


def _in_transaction(session: Session, key: str) -> dict[str, Any] | None:
    """The value of `key` as this session's transaction sees it (see read_setting): the row
    the session holds, changes not yet written included, else the transaction's reading."""
    row = held(session, Setting, (key,))  # one this session holds: its changes count
    if isinstance(row, Setting):
        return row.value
    transaction = session.get_transaction()
    if transaction is None:
        row = session.get(Setting, key)
        return row.value if row is not None else None
    cached = session.info.get(_LOADED)
    if cached is None or cached[0]() is not transaction:
        if any(isinstance(obj, Setting) for obj in session.new):
            session.flush()  # a row added in this transaction is read, as a query would
        values = {name: value for name, value in _ALL_VALUES.rows(session.connection(), {})}
        # the transaction weakly: held strongly, the session (which holds this in its info)
        # would be in a reference cycle, freed only by a full garbage collection
        session.info[_LOADED] = cached = (weakref.ref(transaction), values)
    return cached[1].get(key)


_LOADED = "ordermill.settings_loaded"
_ALL_VALUES = HotStatement(select(Setting.__table__.c.key, Setting.__table__.c.value))


def _store(mill: Ordermill, key: str, value: dict[str, Any]) -> None:
    with mill.write_session() as session, session.begin():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=utcnow()))
        else:
            row.value = value
            row.updated_at = utcnow()
    mill.refresh()


def write_setting(mill: Ordermill, key: str, value: dict[str, Any], *, actor: Actor) -> None:
    """Store one settings row (insert or replace) in its own transaction."""
    require(actor, "manage_settings")
    _store(mill, key, value)


def stored_fraud_threshold(mill: Ordermill) -> Decimal | None:
    """The admin's threshold, when one is stored (validated 0-100)."""
    try:
        text = read_setting(mill, FRAUD_THRESHOLD).get("value")
    except Exception:  # no schema yet: the configured threshold applies
        return None
    if text in (None, ""):
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise InvalidInput(_("Stored fraud threshold %(text)s is not a number.",
                             text=repr(text))) from None
    return value


# ---------------------------------------------------------------------------- plugin pages


def settings_page(mill: Ordermill, name: str) -> SettingsPage:
    """The plugin settings page called `name`; ConfigurationError when no plugin has one."""
    pages = settings_pages(mill)
    if name not in pages:
        raise ConfigurationError(f"No plugin has a settings page {name!r}.",
                                 details={"page": name})
    return pages[name][1]


def plugin_settings(mill: Ordermill, page_name: str, *, session: Session | None = None
                    ) -> dict[str, Any]:
    """The values an admin stored on a plugin's settings page (only those: merge them over
    your configured defaults). `session`: read inside an action's transaction."""
    return read_setting(mill, _storage_key(mill, page_name), session=session)


def _storage_key(mill: Ordermill, page_name: str) -> str:
    """settings_page(...).storage_key, remembered per app and set of page plugins: actions
    read plugin settings on every placement, and collecting every plugin's pages each time
    cost more than the read (a plugin registered later, or refresh(), starts over)."""
    owners = tuple(mill.plugins.implementers("admin_settings_pages"))
    cached: tuple[tuple[str, ...], dict[str, str]] | None = getattr(mill, _KEYS, None)
    if cached is None or cached[0] != owners:
        cached = (owners, {})
        setattr(mill, _KEYS, cached)
    keys = cached[1]
    if page_name not in keys:
        keys[page_name] = settings_page(mill, page_name).storage_key
    return keys[page_name]


_KEYS = "_settings_storage_keys"


def may_edit(actor: Actor, page: SettingsPage) -> bool:
    from ordermill.core.available import holds

    return holds(actor, page.permission)


def _clean_one(field: SettingField, raw: str | None) -> Any:
    """The value to store for one form value (None: store nothing)."""
    if field.kind == "checkbox":
        value: Any = raw not in (None, "", "0", "false", "off")
    else:
        text = (raw or "").strip()
        if not text:
            if field.required:
                raise InvalidInput(_("%(label)s is required.", label=field.label))
            return None
        if len(text) > field.max_length:
            raise InvalidInput(_("%(label)s has at most %(max_length)s characters.",
                                 label=field.label, max_length=field.max_length))
        value = text
        if field.kind == "number":
            try:
                value = int(text)
            except ValueError:
                raise InvalidInput(_("%(label)s must be a whole number.",
                                     label=field.label)) from None
        elif field.kind == "select" and text not in {choice for choice, _ in field.choices}:
            raise InvalidInput(_("%(label)s: choose one of %(value)s.", label=field.label,
                                 value=', '.join(label for _, label in field.choices)))
    if field.validate is not None:
        checked = field.validate(value)
        if checked is not None:
            value = checked
    return value


def clean_settings(page: SettingsPage, form: Mapping[str, str | None]) -> dict[str, Any]:
    """The values to store from a submitted form: typed, validated, blanks left out. Every
    refused field is reported at once (InvalidInput, details["fields"])."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in page.fields:
        try:
            value = _clean_one(field, form.get(field.name))
        except InvalidInput as refused:
            errors[field.name] = refused.message
            continue
        if value is not None:
            values[field.name] = value
    if errors:
        raise InvalidInput(" ".join(errors.values()), details={"fields": errors})
    return values


def save_plugin_settings(mill: Ordermill, page_name: str, form: Mapping[str, str | None], *,
                         actor: Actor) -> dict[str, Any]:
    """Validate a settings page's form and store it in one transaction; the page's permission
    (manage_settings unless it names another) is checked first. Returns what was stored."""
    page = settings_page(mill, page_name)
    if page.permission in PERMISSIONS:
        require(actor, page.permission)
    elif not may_edit(actor, page):
        raise PermissionDenied(
            _("%(name)s (%(value)s) may not change %(label)s.", name=actor.name,
              value=actor.role or 'no role', label=page.label),
            details={"permission": page.permission, "role": actor.role})
    values = clean_settings(page, form)
    _store(mill, page.storage_key, values)
    return values


__all__ = ["CUSTOM_STATUSES", "FRAUD_THRESHOLD", "clean_settings", "may_edit",
           "plugin_settings", "read_setting", "save_plugin_settings", "settings_page",
           "stored_fraud_threshold", "write_setting"]
