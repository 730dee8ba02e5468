"""staff language preference (issue 21)

`staff_user.language`: the admin's language a staff member chose ("fr"); NULL follows the
browser's Accept-Language, so every existing user keeps today's behaviour.

Revision ID: a21w_staff_language
Revises: a21c_event_messages
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a21w_staff_language"
down_revision: str | Sequence[str] | None = "a21c_event_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("language")
