"""deleting an order keeps its money records (issue 10 item 18)

Revision ID: a10e_books
Revises: a10d_outbox
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

# Revision identifiers, used by Alembic.
revision: str = "a10e_books"
down_revision: str | Sequence[str] | None = "a10d_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
