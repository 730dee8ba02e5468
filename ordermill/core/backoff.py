"""The outbox's retry schedule: exponential back-off with jitter, capped, spanning a day.

Why this shape: a mail server or a webhook receiver that is down for minutes or hours must
delay work, not kill it. Retrying every 2 s for 5 attempts turned a 30 s SMTP outage into
dead jobs; like Stripe's webhook retries, a job now keeps trying for more than 24 hours
before it is dead-lettered. Jitter spreads the retries of jobs that failed together (one
outage fails hundreds at once), so a recovering server is not hit by all of them in the same
second. The nominal delay doubles from `base` up to `cap`; the jitter adds up to `jitter` of
it, never past `cap`, so the nominal schedule is the minimum and `cap` the maximum of every
wait. Settings (and their environment variables) are read in `outbox_env`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

import attrs

from ordermill.core.errors import ConfigurationError

DEFAULT_BASE_SECONDS = 30.0
DEFAULT_CAP_SECONDS = 3600.0
DEFAULT_JITTER = 0.25
DEFAULT_MAX_ATTEMPTS = 32  # 31 waits of 30 s ... 1 h: at least 25 h between first and last
DEFAULT_LEASE_SECONDS = 20.0
MINIMUM_SPAN = dt.timedelta(hours=24)


@attrs.frozen
class RetrySchedule:
    """How long a failed job waits before its next attempt."""

    base_seconds: float = DEFAULT_BASE_SECONDS
    cap_seconds: float = DEFAULT_CAP_SECONDS
    jitter: float = DEFAULT_JITTER

    def nominal(self, attempts: int) -> float:
        """The wait after the `attempts`-th failure without jitter: base * 2^(n-1), capped."""
        exponent = min(max(0, attempts - 1), 64)  # 2**64 * base is past any cap
        return float(min(self.base_seconds * (2 ** exponent), self.cap_seconds))

    def delay(self, attempts: int, rng: random.Random | None = None) -> dt.timedelta:
        """The jittered wait: nominal plus up to `jitter` of it, at most `cap_seconds`."""
        nominal = self.nominal(attempts)
        spread = (rng or random).random() * self.jitter * nominal
        return dt.timedelta(seconds=min(nominal + spread, self.cap_seconds))

    def minimum_span(self, max_attempts: int) -> dt.timedelta:
        """The shortest time from a job's first attempt to its last (when it goes dead)."""
        return dt.timedelta(seconds=sum(self.nominal(n) for n in range(1, max_attempts)))

    def maximum_span(self, max_attempts: int) -> dt.timedelta:
        """The longest such time: every wait at its jittered maximum."""
        return dt.timedelta(seconds=sum(
            min(self.nominal(n) * (1 + self.jitter), self.cap_seconds)
            for n in range(1, max_attempts)))


def _number(env: Mapping[str, str], key: str, *, integer: bool = False,
            minimum: float = 0.0) -> float | int | None:
    raw = env.get(key)
    if raw is None or not raw.strip():
        return None
    try:
        value: float | int = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigurationError(f"{key} must be a number, not {raw!r}.") from None
    if value < minimum or value != value:  # NaN
        raise ConfigurationError(f"{key} must be at least {minimum:g}.")
    return value


def outbox_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The outbox settings given in the environment (only those present)."""
    names = {
        "outbox_backoff_seconds": ("ORDERMILL_OUTBOX_BACKOFF_SECONDS", False, 0.0),
        "outbox_backoff_max_seconds": ("ORDERMILL_OUTBOX_BACKOFF_MAX_SECONDS", False, 0.0),
        "outbox_backoff_jitter": ("ORDERMILL_OUTBOX_BACKOFF_JITTER", False, 0.0),
        "outbox_max_attempts": ("ORDERMILL_OUTBOX_MAX_ATTEMPTS", True, 1),
        "outbox_lease_seconds": ("ORDERMILL_OUTBOX_LEASE_SECONDS", False, 1.0),
    }
    values: dict[str, Any] = {}
    for name, (key, integer, minimum) in names.items():
        value = _number(env, key, integer=integer, minimum=minimum)
        if value is not None:
            values[name] = value
    return values


__all__ = ["DEFAULT_BASE_SECONDS", "DEFAULT_CAP_SECONDS", "DEFAULT_JITTER",
           "DEFAULT_LEASE_SECONDS", "DEFAULT_MAX_ATTEMPTS", "MINIMUM_SPAN", "RetrySchedule",
           "outbox_env"]
