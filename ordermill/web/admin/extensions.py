"""What plugins add to the admin's pages: order panels and buttons, the order-list filters
and the extra fields of Add New Order (core/admin_specs.py collects them).

Panels are rendered from the plugin's own templates by a Jinja environment of their own, with
autoescaping on: a value holding `<script>` shows as text, whatever the file is called.
Buttons resolve to same-site URLs only: a path of this site or a Flask endpoint name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from flask import url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from marshmallow import ValidationError, fields
from marshmallow import validate as checks
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from ordermill.core.admin_specs import (
    OrderButton,
    RequestField,
    check_filter_values,
    list_filters,
    order_buttons,
    order_panels,
    request_fields,
)
from ordermill.core.errors import InvalidInput, PluginError
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import plugin_text
from ordermill.core.models import Order
from ordermill.core.specs import Actor
from ordermill.web.admin.common import mill

ENDPOINT_NAME = re.compile(r"^[A-Za-z_][\w.]*$")
FIELD_PREFIX = "field."  # Add New Order's inputs of plugin fields: never one of the form's


@functools.cache
def _environment(package: str) -> jinja2.Environment:
    """One Jinja environment per plugin package, reading its `templates/` folder."""
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def rendered_panels(order: Order, actor: Actor) -> list[dict[str, Any]]:
    """[{plugin, title, html}] of every plugin panel for this order; a panel that cannot be
    rendered is a PluginError naming its plugin."""
    shown = []
    for plugin, panel in order_panels(mill(), order, actor):
        context = {"csrf_token": generate_csrf, "url_for": url_for, **panel.context,
                   "order": order, "actor": actor}
        try:
            html = _environment(panel.package).get_template(panel.template).render(context)
        except Exception as error:
            raise PluginError(mill().plugins.describe(plugin), "admin_order_panels",
                              f"panel {panel.title!r} ({panel.package}/templates/"
                              f"{panel.template}) cannot be shown: {type(error).__name__}: "
                              f"{error}") from error
        shown.append({"plugin": plugin, "title": panel.title, "html": Markup(html)})
    return shown


def button_url(button: OrderButton, number: str) -> str:
    """The button's URL: a same-site path as given, or its endpoint built with the order's
    number (as a query parameter if the route has none). Anything else is refused."""
    endpoint = button.endpoint.strip()
    if endpoint.startswith("/") and not endpoint.startswith(("//", "/\\")) \
            and "\\" not in endpoint and not any(c.isspace() for c in endpoint):
        return endpoint
    if ENDPOINT_NAME.match(endpoint):
        return url_for(endpoint, number=number)
    raise ValueError(f"{endpoint!r} is neither a path of this site nor an endpoint name")


def plugin_buttons(order: Order, actor: Actor) -> list[dict[str, Any]]:
    """[{plugin, label, url, method, confirm}] of the plugin buttons this actor may use."""
    shown = []
    for plugin, button in order_buttons(mill(), order, actor):
        try:
            url = button_url(button, order.number)
        except (ValueError, BuildError) as error:
            raise PluginError(mill().plugins.describe(plugin), "admin_order_actions",
                              f"button {button.label!r}: {error}") from error
        shown.append({"plugin": plugin, "label": button.label, "url": url,
                      "method": button.method, "confirm": button.confirm})
    return shown


# ---------------------------------------------------------------------------- lists


def filter_controls() -> list[dict[str, Any]]:
    """[{name, label, choices}] of the plugin filters, for the order list's filter bar."""
    return [{"name": name, "label": plugin_text(spec.label, plugin),
             "choices": [(value, plugin_text(label, plugin)) for value, label in spec.choices]}
            for name, (plugin, spec) in list_filters(mill()).items()]


def wanted_filters(args: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The plugin filters the query string asks for, checked (InvalidInput when a value is
    not one the filter takes)."""
    names = list_filters(mill())
    wanted = tuple((name, str(args.get(name)).strip()) for name in names
                   if str(args.get(name) or "").strip())
    check_filter_values(mill(), wanted)
    return wanted


# ---------------------------------------------------------------------------- add new order


def _input_kind(field: fields.Field) -> str:
    if isinstance(field, fields.Boolean):
        return "checkbox"
    if isinstance(field, (fields.Integer, fields.Float, fields.Decimal)):
        return "number"
    if any(isinstance(check, checks.OneOf) for check in field.validators):
        return "select"
    return "text"


def _options(field: fields.Field) -> list[str]:
    for check in field.validators:
        if isinstance(check, checks.OneOf):
            return [str(choice) for choice in check.choices]
    return []


def request_field_controls() -> list[dict[str, Any]]:
    """[{name, label, kind, options, required, help}] of the plugins' order fields."""
    controls = []
    for name, (_plugin, spec) in request_fields(mill()).items():
        controls.append({"name": FIELD_PREFIX + name, "label": spec.title,
                         "kind": _input_kind(spec.field), "options": _options(spec.field),
                         "required": spec.field.required,
                         "help": spec.field.metadata.get("description", "")})
    return controls


def _read(spec: RequestField, form: MultiDict[str, str]) -> Any:
    raw = form.get(FIELD_PREFIX + spec.name, "").strip()
    if isinstance(spec.field, fields.Boolean):
        return spec.field.deserialize(bool(raw))
    if raw == "":
        if spec.field.required:
            raise ValidationError(_("Required."))
        return None
    return spec.field.deserialize(raw)


def request_field_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The plugins' order fields of the Add New Order form, read by their marshmallow fields
    (a refused value is an InvalidInput naming the field); blank optional fields are left
    out."""
    values: dict[str, Any] = {}
    for name, (_plugin, spec) in request_fields(mill()).items():
        try:
            value = _read(spec, form)
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, list) else [
                str(error.messages)]
            raise InvalidInput(_("%(field)s: %(problems)s", field=spec.title,
                                 problems=" ".join(map(str, messages))),
                               details={"field": name}) from None
        if value is not None:
            values[name] = value
    return values


__all__ = ["button_url", "filter_controls", "plugin_buttons", "rendered_panels",
           "request_field_controls", "request_field_values", "wanted_filters"]
