"""The JSON API under /api/v1, one APIBlueprint whose schemas make /api/v1/openapi.json.

Views only translate: HTTP in, a core action or query, JSON out. Every rule (permissions,
transitions, money) is the core's, so the API, the admin and the CLI cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from apiflask import APIBlueprint
from flask import request

from ordermill.web.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])

api = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="ordermill")

BEARER = "BearerAuth"
ERRORS_READ = [403]
ERRORS_WRITE = [400, 403, 409]


def documented(*statuses: int, auth: bool | str = True, summary: str | None = None,
               responses: Mapping[int, Any] | None = None) -> Callable[[F], F]:
    """Say in the OpenAPI document which errors an endpoint answers and how it authenticates.

    auth=True: a bearer token (or the admin session) is required; auth="optional": anonymous
    calls are allowed too (storefront checkout); auth=False: none. `responses` adds complete
    response objects (other content types, a second success shape).
    """
    security: Any
    if auth == "optional":
        security = [{BEARER: []}, {}]
    elif auth:
        security = BEARER
    else:
        security = None
    documented_responses: dict[int, Any] = {
        status: HTTPStatus(status).phrase for status in sorted(set(statuses))}
    documented_responses.update(responses or {})
    kwargs: dict[str, Any] = {"responses": documented_responses}
    if security is not None:
        kwargs["security"] = security
    if summary:
        kwargs["summary"] = summary
    return api.doc(**kwargs)


def _bad_text(value: Any, depth: int = 0) -> bool:
    """True when a string holds NUL or a lone surrogate (no database can store those)."""
    if depth > 64:
        return True
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_bad_text(k, depth + 1) or _bad_text(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(item, depth + 1) for item in value)
    return False


@api.before_request
def _refuse_unstorable_text() -> Any:
    """NUL bytes and lone surrogates are refused up front with a 422, whatever the field."""
    texts: list[Any] = [dict(request.view_args or {})]
    texts.extend(request.args.items(multi=True))
    if request.is_json and request.content_length:
        try:
            texts.append(request.get_json(silent=True))
        except RecursionError:
            return error_response(400, "bad_request", "The JSON body is nested too deeply.")
    for value in texts:
        candidates = value if isinstance(value, tuple) else (value,)
        if any(_bad_text(item) for item in candidates):
            return error_response(
                422, "validation_error",
                "Invalid input: text may not contain NUL characters or unpaired surrogates.",
                {"fields": {}})
    return None


from ordermill.web.api import auth as _auth  # noqa: E402,F401  (registers views)
from ordermill.web.api import catalog as _catalog  # noqa: E402,F401
from ordermill.web.api import jobs as _jobs  # noqa: E402,F401
from ordermill.web.api import order_links as _order_links  # noqa: E402,F401
from ordermill.web.api import orders as _orders  # noqa: E402,F401

__all__ = ["api", "documented"]
