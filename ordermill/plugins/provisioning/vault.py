"""Secrets at rest: service passwords and server credentials, encrypted with Fernet.

They are encrypted, not hashed, because the panel needs the password itself (to create the
account, to resend a welcome e-mail, to retry a failed create). The key is derived from
`settings.secret_key` with HKDF, under a label of its own, so this key is never the one that
signs sessions. Changing `secret_key` makes stored secrets unreadable: decrypting then fails
with a ConfigurationError that says so, instead of sending garbage to a panel.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import string
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ordermill.core.errors import ConfigurationError

HKDF_INFO = b"ordermill provisioning secrets v1"
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#%+-=@^_"


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, text: str) -> str:
    return _fernet(secret_key).encrypt(text.encode()).decode("ascii")


def decrypt(secret_key: str, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ConfigurationError(
            "A stored provisioning secret cannot be decrypted: ORDERMILL_SECRET_KEY changed "
            "since it was saved. Restore the old key, or re-enter the server credentials and "
            "service passwords.") from None


def encrypt_json(secret_key: str, value: Mapping[str, Any]) -> str:
    return encrypt(secret_key, json.dumps(dict(value), sort_keys=True))


def decrypt_json(secret_key: str, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    loaded = json.loads(decrypt(secret_key, token))
    return loaded if isinstance(loaded, dict) else {}


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
