"""Secrets at rest: service passwords and server credentials, encrypted with Fernet.

They are encrypted, not hashed, because the panel needs the password itself (to create the
account, to resend a welcome e-mail, to retry a failed create). The key is derived from the
shop's secret key with HKDF, under a label of its own, so this key is never the one that
signs sessions. Callers pass `settings.secret_keys` (current key first, then
ORDERMILL_SECRET_KEY_FALLBACKS): new secrets are encrypted under the current key, and a secret
stored under a fallback still decrypts, until `ordermill secrets rotate` re-encrypts it
(`rotate_stored_secrets`). A secret no key opens fails with a ConfigurationError that says so,
instead of sending garbage to a panel.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from ordermill.api import LEGACY_DEFAULT_KEY, ConfigurationError, RotationReport
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer

HKDF_INFO = b"ordermill provisioning secrets v1"
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#%+-=@^_"


Keys = str | Sequence[str] | None


@functools.lru_cache(maxsize=16)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _keys(keys: Keys) -> tuple[str, ...]:
    """One key or a keyring (current first) as a tuple; no key at all is a clear error."""
    ring = (keys,) if isinstance(keys, str) else tuple(keys or ())
    if not ring or not ring[0]:
        raise ConfigurationError(
            "No secret key is configured, so provisioning secrets cannot be stored or read: "
            "set ORDERMILL_SECRET_KEY.")
    return ring


def _multi(keys: Keys) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in _keys(keys)])


def encrypt(keys: Keys, text: str) -> str:
    """Encrypt under the current (first) key."""
    return _fernet(_keys(keys)[0]).encrypt(text.encode()).decode("ascii")


def decrypt(keys: Keys, token: str) -> str:
    """Decrypt with whichever key of the ring opens it (the current key or a fallback)."""
    try:
        return _multi(keys).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ConfigurationError(
            "A stored provisioning secret cannot be decrypted: ORDERMILL_SECRET_KEY changed "
            "since it was saved. List the old key in ORDERMILL_SECRET_KEY_FALLBACKS and run "
            "`ordermill secrets rotate`, or re-enter the server credentials and service "
            "passwords.") from None


def encrypt_json(keys: Keys, value: Mapping[str, Any]) -> str:
    return encrypt(keys, json.dumps(dict(value), sort_keys=True))


def decrypt_json(keys: Keys, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    loaded = json.loads(decrypt(keys, token))
    return loaded if isinstance(loaded, dict) else {}


# ---- rotation: re-encrypt everything stored under the current key ------------------------

# Every encrypted column: (model, attribute, what the report calls one value).
ENCRYPTED_COLUMNS: list[tuple[type[Any], str, str]] = [
    (ProvisioningServer, "credentials", "server credentials"),
    (ProvisionedService, "password", "service password"),
]


def rotate_stored_secrets(session: Session, keys: Sequence[str],
                          old_keys: Sequence[str] = (), *, dry_run: bool = False
                          ) -> RotationReport:
    """Re-encrypt every stored secret under keys[0], in the caller's transaction.

    A value opens with the current key, a fallback, one of `old_keys` (keys of any length,
    e.g. a short key used before keys were checked) or the old built-in default key; those are
    used here to decrypt only, never to sign or verify anything. Values no key opens are left
    as they are and named in the report, so the admin can re-enter them. `dry_run` only
    counts (the start-up check of `serve` and `worker`).
    """
    ring = _keys(keys)
    current = _fernet(ring[0])
    extra = tuple(dict.fromkeys([*ring[1:], *old_keys, LEGACY_DEFAULT_KEY]))
    report = RotationReport()
    inspector = sa.inspect(session.connection())
    for model, attribute, label in ENCRYPTED_COLUMNS:
        if not inspector.has_table(model.__tablename__):
            continue  # the plugin's tables were never created: nothing stored
        column = getattr(model, attribute)
        for row in session.scalars(sa.select(model).where(column.is_not(None))
                                   .order_by(model.id)):
            token = getattr(row, attribute).encode("ascii")
            try:
                current.decrypt(token)
            except InvalidToken:
                pass
            else:
                report.already_current += 1
                continue
            plain, used = _decrypt_with_any(token, extra)
            if plain is None:
                report.unreadable.append(f"{label} of {_name(row)}")
                continue
            if not dry_run:
                setattr(row, attribute, current.encrypt(plain).decode("ascii"))
            report.rotated += 1
            report.from_legacy_key += used == LEGACY_DEFAULT_KEY
    if not dry_run:
        session.flush()
    return report


def _decrypt_with_any(token: bytes, keys: Sequence[str]) -> tuple[bytes | None, str | None]:
    for key in keys:
        try:
            return _fernet(key).decrypt(token), key
        except InvalidToken:
            continue
    return None, None


def _name(row: Any) -> str:
    if isinstance(row, ProvisioningServer):
        return f"server {row.name!r}"
    if isinstance(row, ProvisionedService):
        return f"service {row.id} (order {row.order_number})"
    return f"{type(row).__name__} {getattr(row, 'id', '?')}"


def new_password(length: int = 16) -> str:
    """A random password with upper, lower case and digits (what most panels demand)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password)):
            return password


def new_username(seed: str) -> str:
    """WHMCS style: up to 8 letters of the domain (or e-mail), then 4 random digits."""
    letters = re.sub(r"[^a-z]", "", seed.lower().split("@")[0].split(".")[0])[:8] or "user"
    return f"{letters}{secrets.randbelow(10_000):04d}"
