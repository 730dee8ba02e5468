"""Staff users, passwords and API tokens.

Passwords are hashed with werkzeug's scrypt; API tokens are random, shown once, and only
their SHA-256 is stored, so a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput, NotFound, PermissionDenied
from ordermill.core.models import ApiToken, User, utcnow
from ordermill.core.permissions import ROLES
from ordermill.core.specs import Actor
from ordermill.core.token_use import touch_token

TOKEN_PREFIX = "om_"
MIN_PASSWORD_LENGTH = 8


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for_user(user: User) -> Actor:
    return Actor(kind="user", name=user.email, role=user.role, user_id=user.id)


def create_user(mill: Ordermill, *, email: str, name: str, role: str, password: str) -> User:
    email = (email or "").strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an e-mail address.")
    if role not in ROLES or role == "customer":
        raise InvalidInput(f"Unknown role {role!r}; choose one of admin, manager, support, "
                           f"viewer.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    with mill.write_session() as session, session.begin():
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise InvalidInput(f"A staff user {email} already exists.")
        user = User(email=email, name=name or email, role=role,
                    password_hash=generate_password_hash(password, method="scrypt"),
                    active=True, created_at=utcnow())
        session.add(user)
    return user


def authenticate(mill: Ordermill, email: str, password: str) -> Actor:
    """The actor for a correct e-mail and password; PermissionDenied otherwise (same message
    for an unknown user and a wrong password, so the login form leaks nothing)."""
    with mill.read_session() as session:
        user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.active or not user.password_hash \
            or not check_password_hash(user.password_hash, password or ""):
        raise PermissionDenied("Wrong e-mail or password.")
    return actor_for_user(user)


def create_token(mill: Ordermill, *, email: str, name: str) -> str:
    """Make an API token for a staff user; the returned text is the only copy."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with mill.write_session() as session, session.begin():
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"No staff user {email}.")
        session.add(ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token),
                             prefix=token[:10], created_at=utcnow()))
    return token


def actor_for_token(mill: Ordermill, token: str) -> Actor:
    """The actor a bearer token stands for; PermissionDenied for unknown or revoked ones.

    Only reads: the last-used time is recorded by token_use.touch_token (at most once a
    minute, never waiting for a lock), so a GET never queues behind another writer."""
    with mill.read_session() as session:
        row = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == _hash_token(token or ""))
        ).first()
    if row is None or row.ApiToken.revoked_at is not None or not row.User.active:
        raise PermissionDenied("Invalid or revoked API token.")
    touch_token(mill, row.ApiToken.id, row.ApiToken.last_used_at)
    return Actor(kind="token", name=row.User.email, role=row.User.role,
                 user_id=row.User.id, token_id=row.ApiToken.id)


def revoke_token(mill: Ordermill, token_id: int) -> None:
    with mill.write_session() as session, session.begin():
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"No API token {token_id}.")
        token.revoked_at = token.revoked_at or utcnow()


def update_user(mill: Ordermill, user_id: int, *, actor: Actor, role: str | None = None,
                active: bool | None = None) -> str:
    """Change a staff user's role or access (manage_staff); never the actor's own, so the
    last admin cannot lock everyone out by accident. Returns the user's e-mail."""
    from ordermill.core.permissions import require

    require(actor, "manage_staff")
    if actor.user_id is not None and user_id == actor.user_id:
        raise InvalidInput("You cannot change your own role or access.")
    if role is not None and (role not in ROLES or role == "customer"):
        raise InvalidInput(f"Unknown role {role!r}.")
    with mill.write_session() as session, session.begin():
        user = session.get(User, user_id)
        if user is None:
            raise InvalidInput("No such staff user.")
        if role is not None:
            user.role = role
        if active is not None:
            user.active = active
        return user.email
