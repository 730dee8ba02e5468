"""idempotency keys scoped to their caller (issue 10 item 13)

Revision ID: a10a_api
Revises: 5cc8f495d254
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

# Revision identifiers, used by Alembic.
revision: str = "a10a_api"
down_revision: str | Sequence[str] | None = "5cc8f495d254"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
