"""The fields and filters plugins add: extra fields of POST /orders (`order_request_fields`)
and extra query parameters of the order list and export (`order_list_filters`).

The schemas are classes made once, but the plugins are the running app's, so the mixins read
them per request: a pre-load step takes the plugins' keys out before the schema looks for
unknown fields (any other unknown field stays a 422), a schema validator reads them with the
plugins' own marshmallow fields (their errors join the others), and the loaded data carries
them as `plugin_fields` / `plugin_filters`. `document` adds them to /api/v1/openapi.json.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, has_app_context
from marshmallow import Schema, ValidationError, post_load, pre_load, validates_schema
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from ordermill.core.admin_specs import (
    FilterSpec,
    RequestField,
    check_filter_values,
    list_filters,
    request_fields,
)
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.web.api.schemas.fields import EMPTY_VALUE, FILLED_PATTERN, TRIMMED

PLACE_SCHEMA = "PlaceIn"
LIST_PATHS = ("/api/v1/orders", "/api/v1/orders/export.csv")


def _mill(app: Flask | None = None) -> Any:
    if app is None:
        if not has_app_context():
            return None
        app = current_app
    return app.extensions.get("ordermill")


def _fields(own: set[str], app: Flask | None = None) -> dict[str, RequestField]:
    mill = _mill(app)
    if mill is None:
        return {}
    return {name: spec for name, (_plugin, spec) in request_fields(mill, own).items()}


def _filters(app: Flask | None = None) -> dict[str, FilterSpec]:
    mill = _mill(app)
    if mill is None:
        return {}
    return {name: spec for name, (_plugin, spec) in list_filters(mill).items()}


def _without(data: Any, names: set[str]) -> Any:
    """`data` (a dict, or the query's MultiDictProxy) without the keys in `names`."""
    if isinstance(data, MultiDictProxy):
        kept = MultiDict([(key, value) for key, value in data.data.items(multi=True)
                          if key not in names])
        copy = MultiDictProxy(kept, Schema())
        copy.multiple_keys = data.multiple_keys
        return copy
    if isinstance(data, dict):
        return {key: value for key, value in data.items() if key not in names}
    return data


class PluginRequestFields(Schema):
    """Mixin of PlaceIn: the running app's `order_request_fields`, loaded into
    `plugin_fields` ({name: value as the plugin's field deserialized it})."""

    def _own(self) -> set[str]:
        return {field.data_key or name for name, field in self.fields.items()}

    @pre_load
    def _set_plugin_fields_aside(self, data: Any, **_kwargs: Any) -> Any:
        return _without(data, set(_fields(self._own())))

    def _plugin_values(self, original: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        values: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        if not isinstance(original, dict):
            return values, errors
        for name, spec in _fields(self._own()).items():
            if name not in original:
                if spec.field.required:
                    errors[name] = [_("Missing data for required field.")]
                continue
            try:
                values[name] = spec.field.deserialize(original[name], name, original)
            except ValidationError as error:
                errors[name] = error.messages
        return values, errors

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _check_plugin_fields(self, _data: Any, original: Any, **_kwargs: Any) -> None:
        _values, errors = self._plugin_values(original)
        if errors:
            raise ValidationError(errors)

    @post_load(pass_original=True)
    def _add_plugin_fields(self, data: dict[str, Any], original: Any, **_kwargs: Any
                           ) -> dict[str, Any]:
        data["plugin_fields"] = self._plugin_values(original)[0]
        return data


class PluginListFilters(Schema):
    """Mixin of the order list queries: `?<filter name>=<value>` for every filter of the
    running app, loaded into `plugin_filters` as ((name, value), ...)."""

    @pre_load
    def _set_plugin_filters_aside(self, data: Any, **_kwargs: Any) -> Any:
        return _without(data, set(_filters()))

    @staticmethod
    def _wanted(original: Any) -> tuple[tuple[str, str], ...]:
        wanted = []
        for name in _filters():
            values = original.data.getlist(name) if isinstance(original, MultiDictProxy) \
                else [original[name]] if name in original else []
            if len(values) > 1:
                raise ValidationError(_("Give this parameter once."), name)
            value = str(values[0]).strip(TRIMMED) if values else None
            if value == "":  # the OpenAPI document says so too (FILLED_PATTERN)
                raise ValidationError(str(EMPTY_VALUE), name)
            if value is not None:
                wanted.append((name, value))
        return tuple(wanted)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _check_plugin_filters(self, _data: Any, original: Any, **_kwargs: Any) -> None:
        wanted = self._wanted(original)
        if not wanted:
            return
        try:
            check_filter_values(_mill(), wanted)
        except InvalidInput as refused:
            name = refused.details.get("field", "filter")
            raise ValidationError(refused.message, name) from None

    @post_load(pass_original=True)
    def _add_plugin_filters(self, data: dict[str, Any], original: Any, **_kwargs: Any
                            ) -> dict[str, Any]:
        data["plugin_filters"] = self._wanted(original)
        return data


def _property(field: Any) -> dict[str, Any]:
    """The OpenAPI property of a marshmallow field (apispec's own conversion)."""
    plugin = MarshmallowPlugin()
    APISpec("fields", "1", "3.0.3", plugins=[plugin])
    assert plugin.converter is not None
    return plugin.converter.field2property(field)


def document(app: Flask, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the running app's plugin fields to PlaceIn and its filters to the order lists."""
    schemas = spec.get("components", {}).get("schemas", {})
    place = schemas.get(PLACE_SCHEMA)
    if place is not None:
        properties = place.setdefault("properties", {})
        for name, field in _fields(set(properties), app).items():
            properties[name] = {**_property(field.field), "title": field.title}
            if field.field.required:
                place.setdefault("required", []).append(name)
    filters = _filters(app)
    for path in LIST_PATHS:
        operation = spec.get("paths", {}).get(path, {}).get("get")
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        for name, filter_spec in filters.items():
            schema: dict[str, Any] = {"type": "string", "minLength": 1,
                                      "pattern": FILLED_PATTERN}
            if filter_spec.choices:
                schema = {"type": "string", "enum": [value for value, _l in filter_spec.choices]}
            parameters.append({"in": "query", "name": name, "required": False,
                               "description": f"{filter_spec.label} (a plugin's filter).",
                               "schema": schema})
    return spec


__all__ = ["PluginListFilters", "PluginRequestFields", "document"]
