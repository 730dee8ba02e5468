"""Who is calling: a bearer API token, or a staff user logged in with the session cookie.

Tokens are for scripts and integrations (`Authorization: Bearer om_...`); the session is for
the admin in a browser. A session-authenticated request that changes something must also
send the session's CSRF token in the X-CSRF-Token header, so another site cannot make a
logged-in browser act. Either way the result is a core Actor, and the core checks what that
actor may do: nothing here decides permissions.

The cookie also carries the user's session version (core.staff): a cookie whose version the
user has moved past (logout, password change, "end all sessions") is anonymous from then on,
even though its signature is still valid.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import current_app, g, request, session

from ordermill.core.errors import PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.specs import Actor
from ordermill.core.staff import actor_for_token, end_own_session, session_actor, session_version
from ordermill.web.errors import AuthenticationRequired

SESSION_USER = "ordermill_user_id"
SESSION_CSRF = "ordermill_csrf"
SESSION_VERSION = "ordermill_session_version"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()


def mill() -> Any:
    """The Ordermill of the running app."""
    return current_app.extensions["ordermill"]


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


def _from_header(header: str) -> Actor:
    scheme, _sep, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired(
            _("Send the API token as `Authorization: Bearer <token>`."),
            details={"scheme": scheme[:20]})
    try:
        return actor_for_token(mill(), token.strip())
    except PermissionDenied:
        raise AuthenticationRequired(_("Invalid or revoked API token.")) from None


def session_user() -> tuple[int, int] | None:
    """(user id, session version) stamped in this browser's cookie, if any."""
    user_id = session.get(SESSION_USER)
    version = session.get(SESSION_VERSION)
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    return user_id, version


def _forget() -> None:
    for key in (SESSION_USER, SESSION_VERSION, SESSION_CSRF):
        session.pop(key, None)


def _from_session() -> Actor | None:
    stamped = session_user()
    if stamped is None:
        if SESSION_USER in session:  # a cookie from before session versions: ended
            _forget()
        return None
    actor = session_actor(mill(), *stamped)
    if actor is None:  # logged out, deactivated, deleted or ended since login
        _forget()
        g.ordermill_session_ended = True
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = session.get(SESSION_CSRF, "")
        if not expected or not hmac.compare_digest(sent, expected):
            raise CsrfFailed(_("Send the session's CSRF token in the %(header)s header "
                               "(or use a bearer token).", header=CSRF_HEADER))
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
    if actor is None and g.get("ordermill_session_ended"):
        raise AuthenticationRequired(_("Your session has ended (logged out, password changed "
                                       "or ended by an admin): log in again."))
    if actor is None:
        raise AuthenticationRequired(_(
            "Authentication required: send `Authorization: Bearer <token>` "
            "(get one with `ordermill token create` or POST /api/v1/auth/login)."))
    return actor


def login_session(actor: Actor) -> str:
    """Log a staff user in on this browser session; returns the session's new CSRF token."""
    assert actor.user_id is not None
    session.clear()
    session[SESSION_USER] = actor.user_id
    session[SESSION_VERSION] = session_version(mill(), actor.user_id)
    csrf = secrets.token_urlsafe(32)
    session[SESSION_CSRF] = csrf
    session.permanent = False
    g.ordermill_actor = actor
    return csrf


def stamp_session(version: int) -> None:
    """Keep this browser logged in after its user moved the session version on (their own
    password change), while every other cookie stays ended."""
    session[SESSION_VERSION] = version


def logout_session() -> None:
    """End this session on the server too: the user's session version moves on, so a copy
    of the cookie (kept, stolen, or still open in another tab) is refused from now on."""
    stamped = session_user()
    if stamped is not None:
        end_own_session(mill(), *stamped)
    _forget()


def csrf_token() -> str | None:
    """The CSRF token of the logged-in session (for the admin's forms and fetch calls)."""
    value = session.get(SESSION_CSRF)
    return value if isinstance(value, str) else None
