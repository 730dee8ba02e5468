"""outbox retry schedule and heartbeat (issue 10 items 4, 6)

Revision ID: a10d_outbox
Revises: a10c_sessions
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

# Revision identifiers, used by Alembic.
revision: str = "a10d_outbox"
down_revision: str | Sequence[str] | None = "a10c_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
