"""Staff users, passwords, API tokens and browser sessions.

Passwords are hashed with werkzeug's scrypt; API tokens are random, shown once, and only
their SHA-256 is stored, so a database leak reveals no usable token.

A browser session is a signed cookie, which the server cannot delete. So each staff user
has a `session_version` that login stamps into the cookie and every request compares:
logging out, changing the password, or an admin's "end all sessions" bumps it, and every
cookie carrying an older value is refused from then on (whoever copied it).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import cache
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput, NotFound, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.models import ApiToken, User, utcnow
from ordermill.core.permissions import ROLES
from ordermill.core.retry import retry_read
from ordermill.core.specs import Actor
from ordermill.core.token_use import touch_token

TOKEN_PREFIX = "om_"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1000  # scrypt over megabytes of "password" would be a cheap DoS
PASSWORD_METHOD = "scrypt"
# The method new hashes are made with (a staff user's, a changed password's) and the dummy
# hash copies. A test harness that makes its users at a cheaper cost sets that cost here
# (ordermill.testing), so there too a miss costs what a hit costs.
HASH_METHOD = PASSWORD_METHOD

log = logging.getLogger("ordermill.staff")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffRecord(Protocol):
    """What an actor is made from: a User, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def role(self) -> str: ...


def actor_for_user(user: StaffRecord) -> Actor:
    return Actor(kind="user", name=user.email, role=user.role, user_id=user.id)


def create_user(mill: Ordermill, *, email: str, name: str, role: str, password: str) -> User:
    email = (email or "").strip().lower()
    if "@" not in email:
        raise InvalidInput(_("%(email)s is not an e-mail address.", email=repr(email)))
    if role not in ROLES or role == "customer":
        raise InvalidInput(_("Unknown role %(role)s; choose one of admin, manager, support, "
                             "viewer.", role=repr(role)))
    _check_new_password(password)
    with mill.write_session() as session, session.begin():
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise InvalidInput(_("A staff user %(email)s already exists.", email=email))
        user = User(email=email, name=name or email, role=role,
                    password_hash=generate_password_hash(password, method=HASH_METHOD),
                    active=True, created_at=utcnow())
        session.add(user)
    return user


def _check_new_password(password: str | None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("Passwords need at least %(MIN_PASSWORD_LENGTH)s characters.",
                             MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH))
    if len(password or "") > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_("Passwords may have at most %(MAX_PASSWORD_LENGTH)s characters.",
                             MAX_PASSWORD_LENGTH=MAX_PASSWORD_LENGTH))


@cache
def dummy_password_hash(method: str = PASSWORD_METHOD) -> str:
    """A hash of a random password, made like real ones, for logins with no user to check:
    verifying it costs what a real check costs, so timing does not tell staff e-mails apart."""
    return generate_password_hash(secrets.token_urlsafe(24), method=method)


def _password_matches(user: User | None, password: str) -> bool:
    """Exactly one scrypt verification whatever the account's state: an unknown, inactive
    or password-less account verifies the dummy hash and fails."""
    dummy = dummy_password_hash(HASH_METHOD)  # made on the first login, hit or miss
    stored = user.password_hash if user is not None and user.active else None
    if not stored:
        check_password_hash(dummy, password or "")
        return False
    return check_password_hash(stored, password or "")


def authenticate(mill: Ordermill, email: str, password: str) -> Actor:
    """The actor for a correct e-mail and password; PermissionDenied otherwise (same message
    and the same hashing work for an unknown user and a wrong password, so the login form
    leaks nothing, not even by its timing)."""
    with mill.read_session() as session:
        user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if not _password_matches(user, password) or user is None:
        raise PermissionDenied(_("Wrong e-mail or password."))
    return actor_for_user(user)


def create_token(mill: Ordermill, *, email: str, name: str) -> str:
    """Make an API token for a staff user; the returned text is the only copy."""
    with mill.write_session() as session, session.begin():
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(_("No staff user %(email)s.", email=email))
        return issue_token(session, user, name)


def issue_token(session: Session, user: User, name: str) -> str:
    """Add a new API token of `user` to the session's transaction; returns its only copy."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token),
                         prefix=token[:10], created_at=utcnow()))
    return token


def actor_for_token(mill: Ordermill, token: str) -> Actor:
    """The actor a bearer token stands for; PermissionDenied for unknown or revoked ones.

    Only reads: the last-used time is recorded by token_use.touch_token (at most once a
    minute, never waiting for a lock), so a GET never queues behind another writer."""
    row = _read_row(mill, _token_query(), {"token_hash": _hash_token(token or "")})
    if row is None or row.revoked_at is not None or not row.active:
        raise PermissionDenied(_("Invalid or revoked API token."))
    touch_token(mill, row.token_id, row.last_used_at)
    return Actor(kind="token", name=row.email, role=row.role, user_id=row.user_id,
                 token_id=row.token_id)


@retry_read
def _read_row(mill: Ordermill, query: Any, params: dict[str, Any]) -> Any:
    """The first row of `query`, its columns read with Core on a read session's connection
    (no ORM loading: every request asks); read again once if the connection was lost (a
    pooled PostgreSQL connection is only pinged after resting, core.db)."""
    with mill.read_session() as session:
        return session.connection().execute(query, params).first()


@cache
def _token_query() -> Any:
    """What a request needs of a token and its user, by the token's hash (built once: every
    API call). Columns read on the session's connection, not the two rows as objects: the lookup
    went from 194 to 114 us on SQLite."""
    return select(ApiToken.id.label("token_id"), ApiToken.revoked_at, ApiToken.last_used_at,
                  User.id.label("user_id"), User.email, User.role, User.active) \
        .join(User, User.id == ApiToken.user_id) \
        .where(ApiToken.token_hash == bindparam("token_hash"))


def revoke_token(mill: Ordermill, token_id: int) -> None:
    with mill.write_session() as session, session.begin():
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(_("No API token %(token_id)s.", token_id=token_id))
        token.revoked_at = token.revoked_at or utcnow()


def update_user(mill: Ordermill, user_id: int, *, actor: Actor, role: str | None = None,
                active: bool | None = None) -> str:
    """Change a staff user's role or access (manage_staff); never the actor's own, so the
    last admin cannot lock everyone out by accident. Deactivating ends the user's sessions
    for good. Returns the user's e-mail."""
    from ordermill.core.permissions import require

    require(actor, "manage_staff")
    if actor.user_id is not None and user_id == actor.user_id:
        raise InvalidInput(_("You cannot change your own role or access."))
    if role is not None and (role not in ROLES or role == "customer"):
        raise InvalidInput(_("Unknown role %(role)s.", role=repr(role)))
    with mill.write_session() as session, session.begin():
        user = session.get(User, user_id)
        if user is None:
            raise InvalidInput(_("No such staff user."))
        if role is not None:
            user.role = role
        if active is not None:
            user.active = active
        if active is False:  # reactivating later must not bring old cookies back to life
            session.flush()
            _bump(session, user_id, None)
        return user.email


# ---------------------------------------------------------------------------- sessions


def session_version(mill: Ordermill, user_id: int) -> int | None:
    """The version a new session of this user is stamped with (None: no such user)."""
    with mill.read_session() as session:
        return session.scalar(select(User.session_version).where(User.id == user_id))


def session_actor(mill: Ordermill, user_id: int, version: object) -> Actor | None:
    """The actor of a session cookie, or None when it has ended: the user is gone, inactive,
    or their session version moved on since the cookie was stamped."""
    staff = session_staff(mill, user_id, version)
    return staff[0] if staff is not None else None


def session_staff(mill: Ordermill, user_id: int, version: object
                  ) -> tuple[Actor, str, str | None] | None:
    """`session_actor` with the user's display name and language (what the admin shows), in
    one read: every admin request asks."""
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    row = _read_row(mill, _session_user_query(), {"user_id": user_id})
    if row is None or not row.active or row.role == "customer" \
            or row.session_version != version:
        return None
    return actor_for_user(row), row.name or row.email, row.language


@cache
def _session_user_query() -> Any:
    return select(User.id, User.email, User.role, User.active, User.session_version, User.name,
                  User.language).where(User.id == bindparam("user_id"))


def _bump(session: Session, user_id: int, expected: int | None) -> int | None:
    """Move the user's session version on by one (only from `expected` when given); the new
    version, or None when nothing matched."""
    query = update(User).where(User.id == user_id)
    if expected is not None:
        query = query.where(User.session_version == expected)
    changed = session.execute(query.values(session_version=User.session_version + 1))
    if getattr(changed, "rowcount", 0) != 1:
        return None
    return session.scalar(select(User.session_version).where(User.id == user_id))


def end_own_session(mill: Ordermill, user_id: int, version: int) -> bool:
    """Logout: end the sessions stamped with `version` (this browser's, and any copy of its
    cookie). A cookie already ended cannot bump the version of a newer login."""
    with mill.write_session() as session, session.begin():
        ended = _bump(session, user_id, version) is not None
    if ended:
        log.info("staff user %s logged out; sessions of version %s ended", user_id, version)
    return ended


def end_sessions(mill: Ordermill, user_id: int, *, actor: Actor) -> str:
    """An admin's "end all sessions" (manage_staff; anyone may end their own): every browser
    logged in as this user has to log in again. API tokens are not touched. Returns the
    user's e-mail."""
    from ordermill.core.permissions import require

    if actor.user_id != user_id:
        require(actor, "manage_staff")
    with mill.write_session() as session, session.begin():
        user = session.get(User, user_id)
        if user is None or user.role == "customer":
            raise NotFound(_("No such staff user."), details={"user_id": user_id})
        _bump(session, user_id, None)
        email = user.email
    log.info("all sessions of staff user %s ended by %s", email, actor.label)
    return email


def change_password(mill: Ordermill, user_id: int, *, current_password: str,
                    new_password: str) -> int:
    """A staff member changes their own password, proving they know the current one (a
    borrowed session alone cannot lock the owner out). Every other session of theirs ends;
    returns the new session version for the caller to stamp into their own cookie."""
    _check_new_password(new_password)
    with mill.write_session() as session, session.begin():
        user = session.get(User, user_id)
        if not _password_matches(user, current_password) or user is None:
            raise InvalidInput(_("The current password is wrong."),
                               details={"field": "current_password"})
        user.password_hash = generate_password_hash(new_password, method=HASH_METHOD)
        session.flush()
        version = _bump(session, user_id, None)
        email = user.email
    assert version is not None
    log.info("staff user %s changed their password; other sessions ended", email)
    return version


def set_password(mill: Ordermill, email: str, new_password: str) -> str:
    """Set a staff user's password from the command line (the operator owns the machine, so
    no current password): all of the user's sessions end. Returns the e-mail."""
    _check_new_password(new_password)
    wanted = (email or "").strip().lower()
    with mill.write_session() as session, session.begin():
        user = session.scalar(select(User).where(User.email == wanted))
        if user is None or user.role == "customer":
            raise NotFound(_("No staff user %(wanted)s.", wanted=wanted))
        user.password_hash = generate_password_hash(new_password, method=HASH_METHOD)
        session.flush()
        _bump(session, user.id, None)
    log.info("password of staff user %s set from the command line; sessions ended", wanted)
    return wanted


def set_language(mill: Ordermill, user_id: int, language: str | None,
                 *, allowed: tuple[str, ...] | None = None) -> str | None:
    """A staff member's admin language ("fr"), or None to follow the browser again.

    Only a shipped language (or `allowed`, which may add the pseudo-locale in tests) is
    stored; anything else is refused and nothing changes. Returns the stored value.
    """
    from ordermill.core.i18n import LANGUAGES
    from ordermill.core.i18n import gettext as _

    choices = allowed or LANGUAGES
    wanted = (language or "").strip() or None
    if wanted is not None and wanted not in choices:
        raise InvalidInput(_("Unknown language %(language)s; choose one of %(choices)s.",
                             language=repr(wanted)[:40], choices=", ".join(choices)),
                           details={"field": "language"})
    with mill.write_session() as session, session.begin():
        user = session.get(User, user_id)
        if user is None or user.role == "customer":
            raise NotFound(_("No such staff user."), details={"user_id": user_id})
        user.language = wanted
        email = user.email
    log.info("staff user %s chose the admin language %s", email, wanted or "(browser)")
    return wanted
