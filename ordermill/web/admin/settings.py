"""Settings pages: custom statuses, the fraud threshold, the tabs plugins add, staff users
and roles.

Custom statuses are stored in the Setting row "custom_statuses" as {"statuses": [...]},
which `Ordermill.statuses` reads; a new list is validated by building the registry it would
make before it is saved (so a bad status can never stop the shop), then `mill.refresh()`
makes this process use it. The threshold is stored in the Setting row "fraud_threshold". A
plugin's tab (`admin_settings_pages`: bank details, the e-mail sender, ...) is drawn from its
fields and stored through core.shop_settings. Every page needs manage_settings,
manage_staff or the plugin page's permission, checked with the core's permission table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ordermill.core import shop_settings as stored_settings
from ordermill.core.admin_specs import SettingsPage, settings_pages
from ordermill.core.app import CUSTOM_STATUSES_SETTING
from ordermill.core.errors import InvalidInput, NotFound, OrdermillError, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import ngettext
from ordermill.core.permissions import ROLES, require
from ordermill.core.queries import list_staff
from ordermill.core.staff import create_user, update_user
from ordermill.core.statuses import CATEGORIES, StatusRegistry, status_spec_from_dict
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, mill, text
from ordermill.web.admin.forms import ShopSettingsForm, StaffUserForm, StatusForm, form_errors
from ordermill.web.admin.lookups import orders_using_status

FRAUD_THRESHOLD_SETTING = "fraud_threshold"
ROUNDING_SETTING = "tax_rounding"  # core.adjustments.ROUNDING_SETTING
STAFF_ROLES = tuple(role for role in ROLES if role != "customer")


def read_setting(key: str) -> dict[str, Any]:
    return stored_settings.read_setting(mill(), key)


def write_setting(key: str, value: dict[str, Any]) -> None:
    """Store one settings row through the core (which checks manage_settings)."""
    stored_settings.write_setting(mill(), key, value, actor=actor())


# ---------------------------------------------------------------------------- statuses


def stored_statuses() -> list[dict[str, Any]]:
    return list(read_setting(CUSTOM_STATUSES_SETTING).get("statuses", []))


def _check_registry(statuses: list[dict[str, Any]]) -> None:
    """Build the registry these statuses would give, with every other source: refuse the
    list (with the registry's own message) if it would not load."""
    registry = mill().statuses
    others = [(registry.owner(spec.name), [spec]) for spec in registry
              if registry.owner(spec.name) not in ("ordermill (built-in)", "admin settings")]
    try:
        StatusRegistry.build([*others, ("admin settings",
                                        [status_spec_from_dict(item) for item in statuses])])
    except OrdermillError as error:
        raise InvalidInput(error.message) from None


@admin_bp.route("/settings/statuses", methods=["GET", "POST"])
def statuses() -> Any:
    """WHMCS Setup > Order Statuses: the registry, and custom statuses to add or remove."""
    require(actor(), "manage_settings")
    form = StatusForm()
    registry = mill().statuses
    error = None
    stored = stored_statuses()
    if request.method == "POST" and request.form.get("action") == "delete":
        name = text(request.form, "name") or ""
        remaining = [item for item in stored if item.get("name") != name]
        used = orders_using_status(mill(), name)
        if used:
            error = ngettext("%(num)s order is %(status)s: move it to another status first.",
                             "%(num)s orders are %(status)s: move them to another status "
                             "first.", used, status=name)
        else:
            try:
                _check_registry(remaining)
            except InvalidInput as refused:
                error = refused.message
            else:
                write_setting(CUSTOM_STATUSES_SETTING, {"statuses": remaining})
                mill().refresh()
                flash(_("Status %(status)s removed.", status=name), "success")
                return redirect(url_for("admin.statuses"), 303)
    elif form.validate_on_submit():
        item = {
            "name": form.name.data, "label": form.label.data,
            "colour": (form.colour.data or "").lower(), "category": form.category.data,
            "description": form.description.data or "",
            "transitions": sorted(v for v in request.form.getlist("transitions") if v),
            "reachable_from": sorted(v for v in request.form.getlist("reachable_from") if v),
        }
        editable = {entry.get("name") for entry in stored}
        if item["name"] in registry and item["name"] not in editable:
            error = _("%(status)s is provided by %(owner)s and cannot be changed here.",
                      status=item["name"], owner=registry.owner(item["name"]))
        else:
            updated = [entry for entry in stored if entry.get("name") != item["name"]]
            updated.append(item)
            try:
                _check_registry(updated)
            except InvalidInput as refused:
                error = refused.message
            else:
                write_setting(CUSTOM_STATUSES_SETTING, {"statuses": updated})
                mill().refresh()
                flash(_("Status %(status)s saved.", status=item["label"]), "success")
                return redirect(url_for("admin.statuses"), 303)
    elif request.method == "POST":
        error = form_errors(form)
    editing = None
    wanted = request.args.get("edit")
    if wanted and request.method == "GET":
        editing = next((entry for entry in stored if entry.get("name") == wanted), None)
        if editing is not None:
            form = StatusForm(data=editing)
    rows = [{"spec": spec, "owner": registry.owner(spec.name),
             "targets": sorted(registry.targets(spec.name)),
             "custom": spec.name in {entry.get("name") for entry in stored}}
            for spec in registry]
    return render_template("admin/settings_statuses.html", form=form, rows=rows,
                           error=error, editing=editing, names=[s.name for s in registry],
                           categories=CATEGORIES, section="statuses"), (422 if error else 200)


# ---------------------------------------------------------------------------- shop


@admin_bp.route("/settings/shop", methods=["GET", "POST"])
def shop_settings() -> Any:
    """The fraud score threshold (bank details live on the bank-transfer plugin's tab)."""
    require(actor(), "manage_settings")
    threshold = read_setting(FRAUD_THRESHOLD_SETTING).get("value")
    rounding = read_setting(ROUNDING_SETTING)
    form = ShopSettingsForm(data={"fraud_threshold": Decimal(threshold) if threshold
                                  else None,
                                  "tax_rounding_scope": rounding.get("scope") or "line",
                                  "tax_rounding_mode": rounding.get("mode") or "half_up"})
    error = None
    if form.validate_on_submit():
        value = form.fraud_threshold.data
        write_setting(FRAUD_THRESHOLD_SETTING,
                      {"value": f"{value:.2f}"} if value is not None else {})
        write_setting(ROUNDING_SETTING, {"scope": form.tax_rounding_scope.data,
                                         "mode": form.tax_rounding_mode.data})
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.shop_settings"), 303)
    if request.method == "POST":
        error = form_errors(form)
    return render_template(
        "admin/settings_shop.html", form=form, error=error, section="shop",
        effective_threshold=mill().fraud_threshold,
        stored_threshold=threshold), (422 if error else 200)


# ---------------------------------------------------------------------------- plugin tabs


def _page_or_404(name: str) -> SettingsPage:
    page = settings_pages(mill()).get(name)
    if page is None:
        raise NotFound(_("No settings page %(name)s: is its plugin installed and loaded?",
                         name=repr(name)))
    return page[1]


@admin_bp.context_processor
def _plugin_settings_tabs() -> dict[str, Any]:
    """`plugin_settings_tabs()` for the settings navigation: the plugin pages this user may
    open (a function, so pages that draw no settings navigation call no hook)."""

    def tabs() -> list[tuple[str, str]]:
        return [(name, page.label) for name, (_plugin, page) in
                settings_pages(mill()).items()
                if stored_settings.may_edit(actor(), page)]

    return {"plugin_settings_tabs": tabs}


@admin_bp.route("/settings/plugins/<name>", methods=["GET", "POST"])
def plugin_settings_page(name: str) -> Any:
    """A plugin's settings tab: its fields, the stored values, the configured defaults."""
    page = _page_or_404(name)
    if not stored_settings.may_edit(actor(), page):
        raise PermissionDenied(_("You may not open %(page)s.", page=page.label),
                               details={"permission": page.permission})
    stored = stored_settings.read_setting(mill(), page.storage_key)
    defaults = dict(page.defaults(mill().settings)) if page.defaults else {}
    values: dict[str, Any] = {**stored}
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        try:
            stored_settings.save_plugin_settings(mill(), name, request.form, actor=actor())
        except InvalidInput as refused:
            error = refused.message
            errors = dict(refused.details.get("fields") or {})
            values = {field.name: request.form.get(field.name) for field in page.fields}
        else:
            flash(_("%(page)s saved.", page=page.label), "success")
            return redirect(url_for("admin.plugin_settings_page", name=name), 303)
    return render_template("admin/settings_plugin.html", page=page, values=values,
                           defaults=defaults, errors=errors, error=error,
                           section=f"plugin:{name}"), (422 if error else 200)


# ---------------------------------------------------------------------------- staff


def _set_user(user_id: int, *, role: str | None = None, active: bool | None = None) -> str:
    return update_user(mill(), user_id, actor=actor(), role=role, active=active)


@admin_bp.route("/settings/staff", methods=["GET", "POST"])
def staff() -> Any:
    """Staff users (create, change role, deactivate) and what each role may do."""
    require(actor(), "manage_staff")
    form = StaffUserForm()
    error = None
    if request.method == "POST" and request.form.get("action") in ("role", "active"):
        try:
            user_id = int(request.form.get("user_id", ""))
        except ValueError:
            user_id = -1
        try:
            if request.form["action"] == "role":
                email = _set_user(user_id, role=text(request.form, "role"))
                flash(_("%(email)s is now %(role)s.", email=email,
                        role=request.form.get("role")), "success")
            else:
                activate = request.form.get("active") == "1"
                email = _set_user(user_id, active=activate)
                flash(_("%(email)s may log in again.", email=email) if activate
                      else _("%(email)s is deactivated.", email=email), "success")
            return redirect(url_for("admin.staff"), 303)
        except InvalidInput as refused:
            error = refused.message
    elif form.validate_on_submit():
        try:
            create_user(mill(), email=form.email.data or "", name=form.name.data or "",
                        role=form.role.data or "viewer", password=form.password.data or "")
        except InvalidInput as refused:
            error = refused.message
        else:
            flash(_("Staff user %(email)s created.", email=form.email.data), "success")
            return redirect(url_for("admin.staff"), 303)
    elif request.method == "POST":
        error = form_errors(form)
    return render_template(
        "admin/settings_staff.html", form=form, error=error, users=list_staff(mill(),
                                                                          actor=actor()),
        roles=STAFF_ROLES, matrix=mill().permissions.roles, section="staff",
        permissions=mill().permissions.labels, owners=mill().permissions.owners,
    ), (422 if error else 200)
