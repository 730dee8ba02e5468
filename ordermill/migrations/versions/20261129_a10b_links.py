"""customer order links expire and can be revoked (issue 10 item 14)

Revision ID: a10b_links
Revises: a10a_api
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

# Revision identifiers, used by Alembic.
revision: str = "a10b_links"
down_revision: str | Sequence[str] | None = "a10a_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
