"""The request guards every route under /api/ passes before its view, whatever its blueprint.

They run in one `before_app_request` (registered by the API blueprint), so a blueprint added
later cannot forget them, in this order:

1. authentication: a route that needs a caller answers 401 before anything in the request is
   validated (an anonymous caller learns nothing about fields); a bad token or a missing CSRF
   header is refused here too;
2. body type: a non-empty body that is not JSON is a 415, so `curl -d amount=5.00` (form) or
   `text/plain` never runs an action with its defaults;
3. JSON: an unreadable or too deeply nested body is a 400 (never a RecursionError);
4. text: NUL bytes and lone surrogates, which no database stores, are a 422.

Gateway webhooks get only the nesting guard: the gateway signs the raw bytes, whatever their
type, and a 4xx would make it resend a real event for days.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from flask import current_app, request

from ordermill.core.i18n import gettext as _
from ordermill.web.auth import current_actor, require_actor
from ordermill.web.errors import AuthenticationRequired, error_response

Access = Literal["token", "optional", "public", "raw"]
ACCESS_ATTR = "ordermill_access"
ANONYMOUS_SWITCH_ATTR = "ordermill_anonymous_when"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_DEPTH = 64


def access(kind: Access, *, anonymous_when: str | None = None
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view: "token" (a caller is required; the default of unmarked POST, PUT, PATCH
    and DELETE routes), "optional" (anonymous calls
    allowed, only while app.config[anonymous_when] is true when that is named), "public" (no
    caller), "raw" (public, body passed on as bytes: gateway webhooks)."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ACCESS_ATTR, kind)
        setattr(view, ANONYMOUS_SWITCH_ATTR, anonymous_when)
        return view

    return mark


def _view_access() -> tuple[Access, str | None]:
    if request.endpoint is None or request.endpoint.startswith("openapi."):
        return "public", None  # the OpenAPI document and its docs page are public
    view = current_app.view_functions.get(request.endpoint)
    marked = getattr(view, ACCESS_ATTR, None)
    if marked is None:  # unmarked: writes need a caller; reads authenticate in the view
        return ("token" if request.method in BODY_METHODS else "public"), None
    return marked, getattr(view, ANONYMOUS_SWITCH_ATTR, None)


def _authenticate(kind: Access, anonymous_when: str | None) -> None:
    if kind == "token":
        require_actor()
    elif kind == "optional":
        actor = current_actor()  # a bad token is a 401 even where anonymous calls are fine
        if actor is None and anonymous_when and not current_app.config.get(anonymous_when):
            raise AuthenticationRequired(_(
                "Authentication required: this shop takes this request only with an API "
                "token (`Authorization: Bearer <token>`)."))


def _too_deep(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, Mapping):
        return any(_too_deep(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return any(_too_deep(item, depth + 1) for item in value)
    return False


def _bad_text(value: Any) -> bool:
    """True when a string (or a key) holds NUL or a lone surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_bad_text(item) for item in value)
    return False


def _read_json(body: bytes) -> tuple[Any, Any]:
    """(parsed body, error response or None)."""
    try:
        parsed = json.loads(body)
    except RecursionError:
        return None, error_response(400, "bad_request",
                                    _("The JSON body is nested too deeply."))
    except ValueError:
        return None, error_response(400, "bad_request", _(
            "The request body is not valid JSON: send a JSON object with Content-Type "
            "application/json."))
    if _too_deep(parsed):
        return None, error_response(
            400, "bad_request", _("The JSON body is nested too deeply (at most %(depth)s "
                                  "levels).", depth=MAX_DEPTH))
    return parsed, None


def guard_api_request() -> Any:
    """The guards above, for every matched route under /api/ (see the module docstring)."""
    if not request.path.startswith("/api/") or request.routing_exception is not None \
            or request.method == "OPTIONS":
        return None
    kind, anonymous_when = _view_access()
    _authenticate(kind, anonymous_when)
    body = request.get_data(cache=True) if request.method in BODY_METHODS else b""
    if body.strip() and kind != "raw" and not request.is_json:
        return error_response(
            415, "unsupported_media_type",
            _("Send the body as JSON with Content-Type application/json (got %(type)s); "
              "nothing was changed.",
              type=(request.mimetype or _("no content type"))[:60]),
            {"content_type": (request.mimetype or "")[:60]})
    parsed: Any = None
    if body.strip() and request.is_json:
        parsed, refusal = _read_json(body)
        if refusal is not None:
            return refusal
    if kind == "raw":
        return None
    texts: list[Any] = [dict(request.view_args or {}), list(request.args.items(multi=True)),
                        parsed]
    if any(_bad_text(value) for value in texts):
        return error_response(
            422, "validation_error",
            _("Invalid input: text may not contain NUL characters or unpaired surrogates."),
            {"fields": {}})
    return None


__all__ = ["access", "guard_api_request"]
