"""staff session versions end sessions on logout (issue 10 item 5)

Revision ID: a10c_sessions
Revises: a10b_links
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

# Revision identifiers, used by Alembic.
revision: str = "a10c_sessions"
down_revision: str | Sequence[str] | None = "a10b_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
