"""Logging in, the caller's identity, and the caller's own API tokens.

Login and token creation are rate-limited per client address: they are what a password
guesser or a leaked-credential script would hammer.
"""

from __future__ import annotations

from typing import Any

from ordermill.core import queries
from ordermill.core.errors import NotFound, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.permissions import require
from ordermill.core.staff import authenticate, create_token, revoke_token
from ordermill.web.api import api, documented
from ordermill.web.api.schemas import (
    LoginIn,
    LoginOut,
    LogoutOut,
    MeOut,
    NewTokenOut,
    TokenIn,
    TokenListOut,
)
from ordermill.web.auth import login_session, logout_session, mill, require_actor
from ordermill.web.errors import AuthenticationRequired
from ordermill.web.extensions import limiter, login_limit, token_limit


class InvalidCredentials(AuthenticationRequired):
    code = "invalid_credentials"


def _new_token(email: str, name: str) -> tuple[str, int]:
    """Create a token and learn its id (the token text is the only copy)."""
    token = create_token(mill(), email=email, name=name)
    token_id = queries.token_id_of(mill(), token)
    assert token_id is not None
    return token, token_id


@api.post("/auth/login")
@limiter.limit(login_limit)
@api.input(LoginIn, location="json")
@api.output(LoginOut)
@documented(400, 401, 429, auth=False, summary="Log in: a new API token and a session")
def login(json_data: dict[str, Any]) -> Any:
    """Check an e-mail and password; answer a new API token (shown once) and start an admin
    session (cookie) whose CSRF token is in the answer."""
    try:
        actor = authenticate(mill(), json_data["email"], json_data["password"])
    except PermissionDenied as error:
        raise InvalidCredentials(error.message) from None
    token, token_id = _new_token(actor.name, json_data["token_name"])
    csrf = login_session(actor)
    return {"token": token, "token_type": "Bearer", "token_id": token_id, "csrf_token": csrf,
            "user": queries.staff_to_dict(actor)}


@api.post("/auth/logout")
@api.output(LogoutOut)
@documented(403, summary="Log out: end the session and revoke the token used")
def logout() -> Any:
    """Revoke the bearer token the call used, if any, and end the staff user's browser
    session on the server: its cookie, and every copy of it, is refused from now on."""
    actor = require_actor()
    revoked = None
    if actor.kind == "token" and actor.token_id is not None:
        revoke_token(mill(), actor.token_id)
        revoked = actor.token_id
    logout_session()
    return {"logged_out": True, "revoked_token_id": revoked}


@api.get("/auth/me")
@api.output(MeOut)
@documented(summary="Who am I: e-mail, role and permissions")
def me() -> Any:
    return queries.staff_to_dict(require_actor())


@api.get("/auth/tokens")
@api.output(TokenListOut)
@documented(summary="My API tokens (never their text)")
def list_tokens() -> Any:
    actor = require_actor()
    return {"tokens": queries.list_tokens(mill(), actor=actor)}


@api.post("/auth/tokens")
@limiter.limit(token_limit)
@api.input(TokenIn, location="json")
@api.output(NewTokenOut, status_code=201)
@documented(400, 403, 429, summary="Create an API token for myself (shown once)")
def new_token(json_data: dict[str, Any]) -> Any:
    actor = require_actor()
    token, token_id = _new_token(actor.name, json_data["name"])
    row = next(t for t in queries.list_tokens(mill(), actor=actor) if t["id"] == token_id)
    return {**row, "token": token}, 201


@api.delete("/auth/tokens/<id:token_id>")
@api.output(TokenListOut)
@documented(403, 404, summary="Revoke one of my API tokens (any, with manage_staff)")
def delete_token(token_id: int) -> Any:
    actor = require_actor()
    owner = queries.token_owner(mill(), token_id)
    if owner is None:
        raise NotFound(_("No API token %(id)s.", id=token_id), details={"token_id": token_id})
    if owner != actor.user_id:
        require(actor, "manage_staff")
    revoke_token(mill(), token_id)
    return {"tokens": queries.list_tokens(mill(), actor=actor)}


__all__ = ["InvalidCredentials", "delete_token", "list_tokens", "login", "logout", "me",
           "new_token"]
