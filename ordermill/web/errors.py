"""One JSON error shape for the whole API: {"error": {"code", "message", "details"}}.

Core errors carry their own code and status; validation errors, unknown URLs, wrong methods,
rate limits and unexpected exceptions are turned into the same shape here, so a script never
has to parse an HTML page or meet a stack trace. A database that is unreachable, locked or
whose connection dropped answers 503 with Retry-After; an error says "nothing was changed"
only when this request committed nothing (see core/writes.py). Pages outside /api/ keep
Flask's defaults (the admin renders its own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from babel.support import LazyProxy
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ordermill.core import writes
from ordermill.core.errors import OrdermillError
from ordermill.core.i18n import N_
from ordermill.core.i18n import gettext as _
from ordermill.core.retry import (
    CHECK_BY_KEY,
    DatabaseUnavailable,
    OutcomeUnknown,
    SavedAnswerLost,
    classify,
    unavailable,
)

log = logging.getLogger("ordermill.web")
API_PREFIX = "/api/"
ORDER_PATH = re.compile(r"^/api/v1/orders/(?P<number>[^/]+)(?:/|$)")

CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    413: "request_too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}
#: English source texts, translated where an answer is made (`message`)
MESSAGES = {
    400: N_("The request could not be read: send a JSON object with Content-Type "
            "application/json."),
    401: N_("Authentication required: send `Authorization: Bearer <token>`."),
    403: N_("You may not do this."),
    404: N_("No such resource."),
    405: N_("This method is not allowed here."),
    413: N_("The request body is too large."),
    429: N_("Too many requests; wait a little and try again."),
    500: N_("Something went wrong on our side; nothing was changed. The error was logged."),
}


def message(status: int) -> str | None:
    """The standard message of an HTTP status in the reader's language (None if none)."""
    text = MESSAGES.get(status)
    return _(text) if text else None


class AuthenticationRequired(OrdermillError):
    """No credentials, or credentials that name nobody (unknown or revoked token)."""

    code = "unauthenticated"
    http_status = 401


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str,
                   details: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    """The JSON error response every API failure goes through."""
    response = jsonify({"error": {"code": code, "message": message,
                                  "details": dict(details or {})}})
    response.status_code = status
    for name, value in (headers or {}).items():
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="ordermill"')
    return response


def _saved() -> tuple[list[dict[str, str]], str]:
    """This request's committed order changes, as details and as words ("" when none or
    when a COMMIT is in doubt)."""
    current = writes.current()
    saved = [{"number": number, "event": kind}
             for number, kind in (current.changes if current else [])]
    if not saved or writes.in_doubt():
        return saved, ""
    return saved, ", ".join(_("%(event)s on order %(number)s", event=item["event"],
                                number=item["number"]) for item in saved)


def server_error_message() -> tuple[str, dict[str, Any]]:
    """The 500 message: "nothing was changed" only when this request committed nothing."""
    if writes.nothing_changed():
        return _(MESSAGES[500]), {}
    saved, what = _saved()
    if what:
        return (_("Something went wrong on our side after your change was saved (%(what)s): "
                  "reload to see it before trying again. The error was logged.", what=what),
                {"saved": saved})
    return (_("Something went wrong on our side, and your change may or may not have been "
              "saved: check before trying again. The error was logged."), {})


def truthful(error: DatabaseUnavailable) -> DatabaseUnavailable:
    """A database error whose "nothing was changed" is false for this request (an earlier
    step committed, or a COMMIT is in doubt) becomes the error that says so."""
    if isinstance(error, OutcomeUnknown | SavedAnswerLost) \
            or writes.nothing_changed() is not False:
        return error
    saved, what = _saved()
    if what:
        return SavedAnswerLost(
            _("Your change was saved (%(what)s), but the database connection was lost before "
              "the answer could be read: reload to see it; do not send it again.", what=what),
            details={"saved": saved})
    return OutcomeUnknown(_("The database connection was lost while your change was being "
                            "saved; it may or may not have been saved. %(advice)s",
                            advice=_(CHECK_BY_KEY)))  # translated where core marks it


def database_unavailable_response(error: DatabaseUnavailable) -> Response:
    """503 in the one JSON shape, with Retry-After unless the client must not resend."""
    error = truthful(error)
    headers = {} if isinstance(error, SavedAnswerLost) \
        else {"Retry-After": str(error.retry_after)}
    return error_response(503, error.code, error.message, error.details, headers)


#: marshmallow's own messages, as it words them: shown in the reader's language
MARSHMALLOW_MESSAGES = frozenset({
    N_("Missing data for required field."), N_("Unknown field."),
    N_("Field may not be null."), N_("Not a valid integer."), N_("Not a valid string."),
    N_("Not a valid boolean."), N_("Not a valid number."), N_("Not a valid datetime."),
    N_("Not a valid date."), N_("Not a valid list."), N_("Not a valid mapping type."),
    N_("Invalid input type."), N_("Invalid value."), N_("Not a valid email address."),
    N_("Not a valid URL."), N_("Not a valid UUID."),
})


def _words(message: Any) -> str:
    text = str(message)  # a lazy validator message becomes text here
    return _(text) if text in MARSHMALLOW_MESSAGES else text


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"json": {"lines": {"0": {"sku": [..]}}}} -> {"lines.0.sku": [..]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, path))
    elif isinstance(detail, list) and all(isinstance(item, str | LazyProxy)
                                          for item in detail):
        flat[prefix or "_schema"] = [_words(item) for item in detail]
    elif detail is not None:
        flat[prefix or "_schema"] = [str(detail)]
    return flat


def validation_message(fields: Mapping[str, list[str]]) -> str:
    parts = "; ".join(_("%(field)s: %(problems)s", field=name, problems=" ".join(messages))
                      for name, messages in list(fields.items())[:4])
    if len(fields) > 4:
        return _("Invalid input. %(problems)s (and %(more)s more)", problems=parts,
                 more=len(fields) - 4)
    return _("Invalid input. %(problems)s", problems=parts)


def http_error_response(error: HTTPError) -> Response:
    """apiflask's errors: request validation (422), unreadable bodies (400), abort()."""
    status = error.status_code
    if status == 422 and isinstance(error.detail, Mapping) and error.detail:
        fields: dict[str, list[str]] = {}
        for _location, detail in error.detail.items():
            fields.update(_flatten(detail))
        return error_response(422, "validation_error", validation_message(fields),
                              {"fields": fields}, error.headers)
    text = message(status) or error.message or _("Request failed.")
    details = dict(error.detail) if isinstance(error.detail, Mapping) else {}
    return error_response(status, CODES.get(status, "error"), text, details, error.headers)


def werkzeug_error_response(error: HTTPException) -> Response:
    status = error.code or 500
    headers = dict(error.get_headers())
    text = message(status) or error.description or error.name
    if status == 405:
        allowed = headers.get("Allow", "")
        text = _("%(method)s is not allowed here; use %(allowed)s.", method=request.method,
                 allowed=allowed)
        return error_response(status, "method_not_allowed", text,
                              {"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
                              headers)
    if status == 429:
        return error_response(status, "rate_limited", _(MESSAGES[429]),
                              {"limit": str(error.description)}, headers)
    if status == 404:
        order = ORDER_PATH.match(request.path)
        if order and not re.fullmatch(r"[0-9]{10}", order["number"]):
            number = order["number"][:40]  # routing refused it: not an order number's shape
            return error_response(404, "order_not_found", _(
                "No order %(number)s: order numbers are 10 digits.", number=number),
                {"number": number}, headers)
        text = _("No API endpoint %(path)s. The API is described at /api/v1/openapi.json.",
                 path=request.path)
    return error_response(status, CODES.get(status, "error"), text, {}, headers)


def init_app(app: APIFlask) -> None:
    """Register the handlers that turn every failure under /api/ into the JSON shape."""

    @app.error_processor
    def _apiflask_error(error: HTTPError) -> Response:
        return http_error_response(error)

    @app.before_request
    def _track_writes() -> None:
        writes.track()  # so an error can tell whether this request changed anything

    @app.errorhandler(OrdermillError)
    def _ordermill_error(error: OrdermillError) -> Any:
        if isinstance(error, DatabaseUnavailable):
            log.warning("%s on %s %s: %s", error.code, request.method, request.path,
                        error.message)
            return _database_unavailable(error)
        if error.http_status >= 500:
            log.error("%s on %s %s: %s", error.code, request.method, request.path,
                      error.message, exc_info=error)
        if is_api_request() or error.http_status < 500:
            return error_response(error.http_status, error.code, error.message, error.details)
        return InternalServerError()

    @app.errorhandler(HTTPException)
    def _http_exception(error: HTTPException) -> Any:
        if is_api_request():
            return werkzeug_error_response(error)
        if request.blueprint is None and (request.path == "/admin"
                                          or request.path.startswith("/admin/")):
            # an unknown admin URL matched no route, so no blueprint handler ran: answer
            # with the admin's own page (navigation included), not werkzeug's bare one
            from ordermill.web.admin.pages import http_error_page

            return http_error_page(error)
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        kind = classify(error)
        if kind is not None:  # lost connection, unreachable or locked database: transient
            log.warning("database %s on %s %s: %s", kind, request.method, request.path, error)
            return _database_unavailable(unavailable(kind))
        log.exception("unexpected error on %s %s", request.method, request.path)
        if is_api_request():
            message, details = server_error_message()
            return error_response(500, "internal_error", message, details)
        return InternalServerError()


def _database_unavailable(error: DatabaseUnavailable) -> Any:
    if is_api_request():
        return database_unavailable_response(error)
    error = truthful(error)
    return ServiceUnavailable(description=error.message, retry_after=error.retry_after)
