"""What the server enforces, stated in /api/v1/openapi.json (so a client, or schemathesis with
every check on, can trust the document).

* Order numbers are 10 ASCII digits, in the URL converter `order_number` (so
  /orders/export.csv and /orders/bulk-status are never read as order numbers, and OPTIONS
  answers the methods of that one resource) and as the path parameter's pattern.
* Status fields and filters list the live status registry (custom statuses included).
* Integer path parameters carry their range (the `id` converter matches exactly that range,
  so an id past it is a 404, never werkzeug's 405 for a converter that refused a value).
* Payment methods, and what a blueprint registers with `live_enum`, list what is installed.
* Money fields carry their pattern and bound; text may not hold NUL (said in the info).
* Every secured operation documents 401, every operation with a JSON body 415; a raw-body
  operation (a gateway webhook, `access("raw")`) has no 415 and says so with
  `x-ordermill-raw-body: true`.
* `request_body` documents a body a view reads itself (no parsing, no validation), and
  `live_path_enum` lists a path parameter's installed values (the gateways taking webhooks).

`install` runs when the API blueprint is registered: it adds the converter before any rule
uses it and chains `document_live_rules` after the app's own spec processor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from apiflask.scaffold import _annotate  # what apiflask's own input() uses to document a body
from flask import Flask
from flask.blueprints import BlueprintSetupState
from marshmallow import Schema
from werkzeug.routing import BaseConverter

from ordermill.core.money import MAX_AMOUNT
from ordermill.core.orders import BUYER_FIELDS
from ordermill.web.api.guards import ACCESS_ATTR

ORDER_NUMBER_PATTERN = "^[0-9]{10}$"
INTEGER_PATH_PARAMETERS = ("line_id", "server_id", "token_id")
MAX_PATH_INT = 2147483647
STATUS_BODIES = ("StatusIn", "BulkStatusIn")
STATUS_FILTER_PATHS = ("/api/v1/orders", "/api/v1/orders/export.csv")
MONEY_NOTE = (f"A decimal string of ASCII digits in the order's currency, with at most as "
              f"many decimals as the currency has (2 for EUR); at most {MAX_AMOUNT:,} minor "
              f"units (9999999999.99 EUR).")


YEAR_PATTERN = "^(19[7-9][0-9]|2[01][0-9][0-9])-"  # what FulfilIn's date range allows
NUL_NOTE = ("Text may not contain NUL (U+0000) or unpaired surrogates anywhere, keys of "
            "free-form objects included: such a request is refused with 422.")
LiveValues = Callable[[Flask], list[str]]
LIVE_ENUMS: dict[tuple[str, str], LiveValues] = {}
LIVE_PATH_ENUMS: dict[tuple[str, str], LiveValues] = {}
BODY_REQUIRED_ATTR = "ordermill_body_required"
RAW_BODY_EXTENSION = "x-ordermill-raw-body"
F = TypeVar("F", bound=Callable[..., Any])


class OrderNumberConverter(BaseConverter):
    """`<order_number:number>`: exactly 10 ASCII digits."""

    regex = "[0-9]{10}"


class IdConverter(BaseConverter):
    """`<id:name>`: a database id, 0 to 2147483647, bounded by the regex itself."""

    regex = ("(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
             "|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
             "|21474836[0-3][0-9]|214748364[0-7])")

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


def live_enum(schema: str, field: str, values: LiveValues) -> None:
    """Declare that components.schemas[schema].properties[field] is one of `values(app)`,
    the live list a plugin registry holds (e.g. installed provisioning modules)."""
    LIVE_ENUMS[(schema, field)] = values


def live_path_enum(path: str, name: str, values: LiveValues) -> None:
    """Declare that the path parameter `name` of `path` (as the document writes it, e.g.
    "/api/v1/webhooks/{gateway}") is one of `values(app)`, e.g. the installed gateways."""
    LIVE_PATH_ENUMS[(path, name)] = values


def request_body(schema: type[Schema], *, required: bool = False) -> Callable[[F], F]:
    """Document the JSON body of a view that reads its body itself, without parsing or
    validating anything on the way in (unlike apiflask's input()): the route keeps accepting
    exactly what it accepted. `required` marks the body required in the document."""

    def decorate(view: F) -> F:
        _annotate(view, body=schema(), content_type="application/json")
        setattr(view, BODY_REQUIRED_ATTR, required)
        return view

    return decorate


def _gateways(app: Flask) -> list[str]:
    mill = app.extensions.get("ordermill")
    return sorted(mill.gateways) if mill is not None else []


live_enum("PlaceIn", "payment_method", _gateways)


def install(state: BlueprintSetupState) -> None:
    """Add the `order_number` converter and the spec processor to the app (once)."""
    app = state.app
    app.url_map.converters.setdefault("order_number", OrderNumberConverter)
    app.url_map.converters.setdefault("id", IdConverter)
    if app.extensions.get("ordermill.openapi_installed"):
        return
    app.extensions["ordermill.openapi_installed"] = True
    previous: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
        app, "spec_callback", None)

    def process(spec: dict[str, Any]) -> dict[str, Any]:
        return document_live_rules(app, previous(spec) if previous else spec)

    app.spec_callback = process  # type: ignore[attr-defined]


def _status_names(app: Flask) -> list[str]:
    mill = app.extensions.get("ordermill")
    return sorted(spec.name for spec in mill.statuses) if mill is not None else []


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if isinstance(operation, dict):
                yield path, operation


def _path_parameters(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            yield path, parameter


def _enum(field: dict[str, Any] | None, values: list[str]) -> None:
    if field is not None and values:
        for key in ("maxLength", "minLength"):
            field.pop(key, None)
        field["enum"] = values


def _views(app: Flask) -> Iterator[tuple[str, str, Any]]:
    """(document path, method, view function) of every route of the app."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        path = re.sub(r"<([^<:]+:)?", "{", rule.rule).replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), view


def _request_bodies(app: Flask, spec: dict[str, Any]) -> None:
    """Required bodies (`request_body(required=True)`) and raw-body operations, marked."""
    paths = spec.get("paths", {})
    for path, method, view in _views(app):
        operation = paths.get(path, {}).get(method)
        if not isinstance(operation, dict):
            continue
        if getattr(view, BODY_REQUIRED_ATTR, False) and "requestBody" in operation:
            operation["requestBody"]["required"] = True
        if getattr(view, ACCESS_ATTR, None) == "raw":
            operation[RAW_BODY_EXTENSION] = True


def _responses(spec: dict[str, Any]) -> None:
    """401 wherever a caller is required, 415 wherever a JSON body is read (the guards'
    answers; a raw body is passed on whatever its content type)."""
    error = {"$ref": "#/components/schemas/ErrorSchema"}
    for _path, operation in _operations(spec):
        responses = operation.setdefault("responses", {})
        secured = any(requirement for requirement in operation.get("security", []))
        if secured and "401" not in responses:
            responses["401"] = {"description": "Missing, invalid or revoked credentials",
                                "content": {"application/json": {"schema": error}}}
        body = operation.get("requestBody", {})
        for media in body.get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            if "anyOf" in spec.get("components", {}).get("schemas", {}).get(
                    ref.rsplit("/", 1)[-1], {}):
                body["required"] = True
        if body and "415" not in responses and not operation.get(RAW_BODY_EXTENSION):
            responses["415"] = {"description": "The body is not JSON (nothing was changed)",
                                "content": {"application/json": {"schema": error}}}


def money_pattern(digits: int) -> str:
    """Decimal text with at most `digits` significant decimals (trailing zeros allowed) and
    at most as many whole digits as keep it within MAX_AMOUNT and the schema's 10."""
    whole = min(10, len(str(MAX_AMOUNT)) - digits)
    decimals = f"[0-9]{{1,{digits}}}0{{0,{12 - digits}}}" if digits else "0{1,12}"
    return f"^[0-9]{{1,{whole}}}(\\.{decimals})?$"


def _money_digits(app: Flask) -> int:
    """The most decimals any of the shop's currencies has (2 for a EUR shop)."""
    from ordermill.core import queries
    from ordermill.core.money import exponent

    mill = app.extensions.get("ordermill")
    if mill is None:
        return 2
    try:
        currencies = queries.shop_currencies(mill)
    except Exception:  # no schema yet (e.g. the document made before `ordermill init`)
        currencies = {mill.settings.default_currency}
    return max(exponent(code) for code in currencies)


def _money_fields(schema: Any) -> Any:
    """Every money property below `schema` (MoneyText marks its fields with x-money)."""
    if isinstance(schema, dict):
        if schema.get("x-money"):
            yield schema
        for value in schema.values():
            yield from _money_fields(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _money_fields(value)


def document_live_rules(app: Flask, spec: dict[str, Any]) -> dict[str, Any]:
    """Order number pattern, integer ranges, live status enums and money notes."""
    statuses = _status_names(app)
    for path, parameter in _path_parameters(spec):
        if parameter.get("in") == "path" and parameter.get("name") == "number":
            parameter["schema"] = {"type": "string", "pattern": ORDER_NUMBER_PATTERN}
        elif parameter.get("in") == "path" and parameter.get("name") in INTEGER_PATH_PARAMETERS:
            parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_PATH_INT}
        elif parameter.get("in") == "path" and (path, parameter.get("name")) in LIVE_PATH_ENUMS:
            values = LIVE_PATH_ENUMS[(path, parameter["name"])](app)
            if values:
                parameter["schema"] = {"type": "string", "enum": values}
        elif parameter.get("in") == "query" and parameter.get("name") == "status" \
                and path in STATUS_FILTER_PATHS and statuses:
            items = parameter.setdefault("schema", {}).setdefault("items", {})
            items.pop("maxLength", None)
            items["enum"] = statuses
    schemas = spec.get("components", {}).get("schemas", {})
    for name in STATUS_BODIES:
        _enum(schemas.get(name, {}).get("properties", {}).get("status"), statuses)
    for (name, field_name), values in LIVE_ENUMS.items():
        _enum(schemas.get(name, {}).get("properties", {}).get(field_name), values(app))
    pattern = money_pattern(_money_digits(app))
    for field in _money_fields(schemas):
        field.setdefault("description", MONEY_NOTE)
        field["pattern"] = pattern
        field.pop("x-money", None)
        if field.pop("x-money-positive", None):  # zero is refused: at least one non-zero digit
            field["not"] = {"pattern": "^[0.]*$"}
    moment = schemas.get("FulfilIn", {}).get("properties", {}).get("at")
    if moment is not None:
        moment["pattern"] = YEAR_PATTERN
    if "BuyerIn" in schemas:  # an edit changes something: at least one buyer field
        schemas["BuyerIn"]["anyOf"] = [{"required": [name]} for name in BUYER_FIELDS]
    if "CustomerPatchIn" in schemas:  # a customer edit changes something, too
        schemas["CustomerPatchIn"]["anyOf"] = [
            {"required": [name]} for name in schemas["CustomerPatchIn"].get("properties", {})]
    if "DeadJobRetryIn" in schemas:  # a bulk retry names what it retries, or says "all"
        schemas["DeadJobRetryIn"]["anyOf"] = [
            *({"required": [name]} for name in ("kind", "order_number", "error_contains")),
            {"required": ["ids"], "properties": {"ids": {"minItems": 1}}},
            {"required": ["all"], "properties": {"all": {"enum": [True]}}},
        ]
    _request_bodies(app, spec)
    _responses(spec)
    info = spec.setdefault("info", {})
    if NUL_NOTE not in info.get("description", ""):
        info["description"] = f"{info.get('description', '')}\n{NUL_NOTE}".strip()
    return spec


__all__ = ["ORDER_NUMBER_PATTERN", "IdConverter", "OrderNumberConverter", "document_live_rules",
           "install", "live_enum", "live_path_enum", "request_body"]
