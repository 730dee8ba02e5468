"""The JSON API under /api/v1, one APIBlueprint whose schemas make /api/v1/openapi.json.

Views only translate: HTTP in, a core action or query, JSON out. Every rule (permissions,
transitions, money) is the core's, so the API, the admin and the CLI cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from apiflask import APIBlueprint

from ordermill.web.api import openapi
from ordermill.web.api.guards import access, guard_api_request

F = TypeVar("F", bound=Callable[..., Any])

api = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="ordermill")
api.record_once(openapi.install)  # before any rule: `<order_number:number>` needs it

BEARER = "BearerAuth"
ERRORS_READ = [403]
ERRORS_WRITE = [400, 403, 409]


def documented(*statuses: int, auth: bool | str = True, summary: str | None = None,
               responses: Mapping[int, Any] | None = None,
               anonymous_when: str | None = None) -> Callable[[F], F]:
    """Say in the OpenAPI document which errors an endpoint answers and how it authenticates.

    auth=True: a bearer token (or the admin session) is required; auth="optional": anonymous
    calls are allowed too (storefront checkout; only while app.config[anonymous_when] is
    true when that is named); auth=False: none. `responses` adds complete response objects
    (other content types, a second success shape). The guards (guards.py) enforce the same
    choice before the request is validated, so the document and the server agree.
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
    kind = "optional" if auth == "optional" else "token" if auth else "public"
    marker = access(kind, anonymous_when=anonymous_when)
    doc = api.doc(**kwargs)

    def decorate(view: F) -> F:
        return doc(marker(view))  # type: ignore[no-any-return]

    return decorate


api.before_app_request(guard_api_request)  # every blueprint's /api/ routes, not just ours


from ordermill.web.api import auth as _auth  # noqa: E402,F401  (registers views)
from ordermill.web.api import catalog as _catalog  # noqa: E402,F401
from ordermill.web.api import catalogue as _catalogue  # noqa: E402,F401
from ordermill.web.api import customers as _customers  # noqa: E402,F401
from ordermill.web.api import documents as _documents  # noqa: E402,F401
from ordermill.web.api import jobs as _jobs  # noqa: E402,F401
from ordermill.web.api import order_links as _order_links  # noqa: E402,F401
from ordermill.web.api import orders as _orders  # noqa: E402,F401
from ordermill.web.api import promo_codes as _promo_codes  # noqa: E402,F401

__all__ = ["api", "documented"]
