"""Secrets out of history and API answers: what is kept of options that carry passwords.

Accept options (WHMCS serviceusername / servicepassword, per line under "lines") reach the
provisioning plugin unmasked, in memory; the order's history and every API answer only say
that a secret was "set". The provisioning plugin stores the secret itself encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECRET_WORDS = ("password", "secret", "api_key", "token")
MASKS = frozenset({"set", "changed", "***"})


def is_secret_key(key: object) -> bool:
    """Whether a key of an options mapping names a secret (password, secret, api key)."""
    name = str(key).lower()
    return any(word in name for word in SECRET_WORDS)


def public(value: Any) -> Any:
    """`value` with every secret replaced by "set" (nested mappings and lists included)."""
    if isinstance(value, Mapping):
        return {key: (("set" if item not in (None, "") else item) if is_secret_key(key)
                      else public(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [public(item) for item in value]
    return value


def without_secrets(value: Any) -> Any:
    """`value` with every secret key left out: options read back from history are never
    trusted to carry one."""
    if isinstance(value, Mapping):
        return {key: without_secrets(item) for key, item in value.items()
                if not is_secret_key(key)}
    if isinstance(value, (list, tuple)):
        return [without_secrets(item) for item in value]
    return value


__all__ = ["MASKS", "is_secret_key", "public", "without_secrets"]
