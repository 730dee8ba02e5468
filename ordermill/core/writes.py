"""What this request (or CLI call) has written so far, so an error can say what is true.

An error answer may only say "nothing was changed" when no write transaction was committed
and none was cut off during its COMMIT (whose outcome the client then cannot know). The web
layer calls `track()` when a request starts; the engine and the write sessions report every
COMMIT here (see db.py), and the action transaction (retry.py) settles a COMMIT whose outcome
it read back. Outside a tracked request nothing is recorded and `nothing_changed()` answers
None: unknown.
"""

from __future__ import annotations

from contextvars import ContextVar

import attrs


@attrs.define
class Writes:
    """The write transactions of one request."""

    committed: int = 0
    in_flight: int = 0  # COMMITs sent whose success was not seen (yet)
    changes: list[tuple[str, str]] = attrs.field(factory=list)  # (order number, event type)


_current: ContextVar[Writes | None] = ContextVar("ordermill_writes", default=None)


def track() -> Writes:
    """Start recording the writes of a new request (replacing the previous request's)."""
    writes = Writes()
    _current.set(writes)
    return writes


def current() -> Writes | None:
    return _current.get()


def commit_started() -> None:
    """A write transaction's COMMIT is about to be sent."""
    writes = _current.get()
    if writes is not None:
        writes.in_flight += 1


def commit_done() -> None:
    """The COMMIT sent last succeeded (or was read back as committed)."""
    writes = _current.get()
    if writes is not None:
        writes.in_flight = max(0, writes.in_flight - 1)
        writes.committed += 1


def commit_not_done() -> None:
    """The COMMIT sent last failed, and reading back showed nothing of it was saved."""
    writes = _current.get()
    if writes is not None:
        writes.in_flight = max(0, writes.in_flight - 1)


def record_changes(changes: list[tuple[str, str]]) -> None:
    """Order changes (number, event type) that are committed, for the error message."""
    writes = _current.get()
    if writes is not None:
        writes.changes.extend(changes)


def nothing_changed() -> bool | None:
    """True when this request committed nothing and has no COMMIT in doubt; None: unknown."""
    writes = _current.get()
    if writes is None:
        return None
    return writes.committed == 0 and writes.in_flight == 0


def in_doubt() -> bool:
    """True when a COMMIT of this request was cut off and its outcome is not known."""
    writes = _current.get()
    return writes is not None and writes.in_flight > 0
