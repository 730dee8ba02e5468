"""Who is calling: a bearer API token, or a staff user logged in with the session cookie.

Tokens are for scripts and integrations (`Authorization: Bearer om_...`); the session is for
the admin in a browser. A session-authenticated request that changes something must also
send the session's CSRF token in the X-CSRF-Token header, so another site cannot make a
logged-in browser act. Either way the result is a core Actor, and the core checks what that
actor may do: nothing here decides permissions.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import current_app, g, request, session

from ordermill.core import queries
from ordermill.core.errors import PermissionDenied
from ordermill.core.specs import Actor
from ordermill.core.staff import actor_for_token
from ordermill.web.errors import AuthenticationRequired

SESSION_USER = "ordermill_user_id"
SESSION_CSRF = "ordermill_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()


def mill() -> Any:
    """The Ordermill of the running app."""
    return current_app.extensions["ordermill"]


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


def _from_header(header: str) -> Actor:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired(
            "Send the API token as `Authorization: Bearer <token>`.",
            details={"scheme": scheme[:20]})
    try:
        return actor_for_token(mill(), token.strip())
    except PermissionDenied:
        raise AuthenticationRequired("Invalid or revoked API token.") from None


def _from_session() -> Actor | None:
    user_id = session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    actor = queries.staff_actor(mill(), user_id)
    if actor is None:  # deactivated or deleted since login
        session.pop(SESSION_USER, None)
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = session.get(SESSION_CSRF, "")
        if not expected or not hmac.compare_digest(sent, expected):
            raise CsrfFailed(f"Send the session's CSRF token in the {CSRF_HEADER} header "
                             f"(or use a bearer token).")
    return actor


def current_actor() -> Actor | None:
    """The calling staff member, or None for an anonymous request (cached per request).

    A bad Authorization header is a 401 even where anonymous calls are allowed: a script with
    a revoked token must hear about it rather than silently act as nobody.
    """
    cached = g.get("ordermill_actor", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    header = request.headers.get("Authorization")
    actor = _from_header(header) if header is not None else _from_session()
    g.ordermill_actor = actor
    return actor


def require_actor() -> Actor:
    """The calling staff member; 401 when there is none."""
    actor = current_actor()
    if actor is None:
        raise AuthenticationRequired(
            "Authentication required: send `Authorization: Bearer <token>` "
            "(get one with `ordermill token create` or POST /api/v1/auth/login).")
    return actor


def login_session(actor: Actor) -> str:
    """Log a staff user in on this browser session; returns the session's new CSRF token."""
    session.clear()
    session[SESSION_USER] = actor.user_id
    csrf = secrets.token_urlsafe(32)
    session[SESSION_CSRF] = csrf
    session.permanent = False
    g.ordermill_actor = actor
    return csrf


def logout_session() -> None:
    session.pop(SESSION_USER, None)
    session.pop(SESSION_CSRF, None)


def csrf_token() -> str | None:
    """The CSRF token of the logged-in session (for the admin's forms and fetch calls)."""
    value = session.get(SESSION_CSRF)
    return value if isinstance(value, str) else None
