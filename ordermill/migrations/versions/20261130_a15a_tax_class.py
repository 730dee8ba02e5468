"""products carry a tax class (issue 15)

`product.tax_class` is one of standard, reduced, zero, exempt; tax plugins read it to pick the
rate, and the catalogue edits it. Existing products get `standard`.

Revision ID: a15a_tax_class
Revises: a12a_plugin_data
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a15a_tax_class"
down_revision: str | Sequence[str] | None = "a12a_plugin_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_class", sa.String(length=20),
                                      server_default="standard", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("tax_class")
