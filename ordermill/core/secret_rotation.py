"""Re-encrypting stored secrets under the current key, across every plugin that keeps some.

The core owns no encrypted column; plugins do (provisioning's server credentials and service
passwords). `ordermill secrets rotate` and the start-up check of `serve` and `worker` reach
them through the `rotate_stored_secrets` hook and add up the plugins' reports here, so the
host never imports a plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


@attrs.define
class RotationReport:
    """What `rotate_stored_secrets` did; never holds a secret or a key."""

    already_current: int = 0
    rotated: int = 0
    from_legacy_key: int = 0
    unreadable: list[str] = attrs.field(factory=list)

    def describe(self) -> str:
        parts = [f"{self.rotated} secret(s) re-encrypted under the current key",
                 f"{self.already_current} already under it"]
        if self.from_legacy_key:
            parts.append(f"{self.from_legacy_key} of the re-encrypted were under the old "
                         f"built-in key")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable with every key given")
        return "; ".join(parts) + "."

    def add(self, other: RotationReport) -> None:
        self.already_current += other.already_current
        self.rotated += other.rotated
        self.from_legacy_key += other.from_legacy_key
        self.unreadable.extend(other.unreadable)


def rotate_all(mill: Ordermill, session: Session, old_keys: Sequence[str] = (), *,
               dry_run: bool = False) -> RotationReport:
    """Ask every plugin to re-encrypt its stored secrets in `session`'s transaction."""
    total = RotationReport()
    for report in mill.plugins.call(
            "rotate_stored_secrets", session=session, keys=mill.settings.secret_keys,
            old_keys=tuple(old_keys), dry_run=dry_run).values:
        total.add(report)
    return total


__all__ = ["RotationReport", "rotate_all"]
