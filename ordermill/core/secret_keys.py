"""The shop's secret key: where it comes from, how long it must be, and how it is rotated.

The key signs staff sessions and customer order links and is the root of the provisioning
vault's encryption key, so a constant built-in key would let anyone forge all three. There is
none: ORDERMILL_SECRET_KEY wins; without it a SQLite install (one host) uses a random key made
once and kept in the instance folder (mode 0600, Flask's instance-folder convention); a
PostgreSQL install (several hosts share the database) has no key at all, and `serve`,
`worker` and `create_app` refuse to start, saying how to set one. Keys shorter than 32 bytes
are refused. ORDERMILL_SECRET_KEY_FALLBACKS lists old keys still accepted for verifying and
decrypting while a rotation is under way; new signatures always use the current key.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ordermill.core.errors import ConfigurationError

log = logging.getLogger("ordermill.secret_keys")

MIN_KEY_BYTES = 32
KEY_FILE = "secret_key"
# The constant older versions used when ORDERMILL_SECRET_KEY was unset. Never a signing key;
# `ordermill secrets rotate` still tries it to decrypt vault secrets stored under it.
LEGACY_DEFAULT_KEY = "dev-secret-change-me"
HOW_TO_SET = (
    "generate one with `ordermill secrets new-key` and set ORDERMILL_SECRET_KEY to it, "
    "the same value on every host that runs `ordermill serve` or `ordermill worker`"
)


def new_key() -> str:
    """A fresh random key: 48 random bytes, URL-safe (64 characters)."""
    return secrets.token_urlsafe(48)


def check_key(value: str, name: str = "ORDERMILL_SECRET_KEY") -> str:
    """The key itself when it is long enough; ConfigurationError otherwise."""
    if value == LEGACY_DEFAULT_KEY:
        raise ConfigurationError(
            f"{name} is the old built-in key {LEGACY_DEFAULT_KEY!r}, which anyone can use to "
            f"forge sessions and order links; {HOW_TO_SET}.")
    if len(value.encode()) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"{name} is {len(value.encode())} bytes long; a secret key needs at least "
            f"{MIN_KEY_BYTES} bytes: {HOW_TO_SET}.")
    return value


def split_fallbacks(text: str | None) -> tuple[str, ...]:
    """ORDERMILL_SECRET_KEY_FALLBACKS: keys separated by commas or whitespace."""
    if not text:
        return ()
    return tuple(part for part in text.replace(",", " ").split() if part)


def sqlite_file(database_url: str) -> str | None:
    """The SQLite file of a URL, ":memory:" for an in-memory one, None for other databases."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite":
        return None
    return url.database or ":memory:"


def key_for_sqlite(database_url: str, instance_path: Path) -> str | None:
    """The key a SQLite install uses without ORDERMILL_SECRET_KEY; None for other databases.

    An in-memory database lives as long as the process, so its key does too (no file).
    """
    database = sqlite_file(database_url)
    if database is None:
        return None
    if database == ":memory:":
        return new_key()
    return instance_key(Path(instance_path))


def instance_key(instance_path: Path) -> str:
    """Read `<instance>/secret_key`, making it (random, mode 0600) the first time.

    The file is written under a temporary name and linked into place, so two processes
    starting together (serve and worker) end up with the same key, never a half-written one.
    """
    path = instance_path / KEY_FILE
    if not path.exists():
        try:
            instance_path.mkdir(parents=True, exist_ok=True)
            _create_key_file(path)
        except OSError as error:
            raise ConfigurationError(
                f"Cannot create the secret key file {path} ({error.strerror or error}); "
                f"make the instance folder writable, or {HOW_TO_SET}.") from None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigurationError(
            f"Cannot read the secret key file {path} ({error.strerror or error}).") from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("The secret key file %s is readable by other users: run chmod 600 %s",
                    path, path)
    return check_key(value, f"The secret key file {path}")


def _create_key_file(path: Path) -> None:
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(new_key() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process made it first: use theirs
        log.info("Generated a new secret key in %s (mode 0600). Keep this file: it signs "
                 "sessions and order links and encrypts stored server passwords.", path)
    finally:
        temporary.unlink(missing_ok=True)


def require_key(secret_key: str | None, database_url: str) -> str:
    """The configured key, or ConfigurationError saying how to set one (PostgreSQL)."""
    if secret_key:
        return secret_key
    if sqlite_file(database_url) is None:
        raise ConfigurationError(
            f"ORDERMILL_SECRET_KEY is not set, and on PostgreSQL ordermill never makes one up "
            f"since several hosts share the database: {HOW_TO_SET}.")
    raise ConfigurationError(f"No secret key is configured: {HOW_TO_SET}.")


def keyring(current: str, fallbacks: Iterable[str]) -> tuple[str, ...]:
    """The current key first, then each fallback once."""
    return tuple(dict.fromkeys([current, *fallbacks]))


__all__ = [
    "LEGACY_DEFAULT_KEY",
    "MIN_KEY_BYTES",
    "check_key",
    "instance_key",
    "key_for_sqlite",
    "keyring",
    "new_key",
    "require_key",
    "split_fallbacks",
]
