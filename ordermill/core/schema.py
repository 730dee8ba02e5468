"""Creating and upgrading the database schema (`ordermill init`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


def upgrade_database(mill: Ordermill) -> None:
    """Bring the database to the newest schema (creates it when empty)."""
    # TODO(migrations helper): run Alembic `upgrade heads` instead of create_all.
    mill.create_schema()
