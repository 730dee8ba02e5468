"""invoices carry a kind: order or renewal (issue 16)

`invoice.kind` is "order" for the invoices of the order's own lines and "renewal" for an
invoice that bills a further period on the same order (a subscription's renewal, WHMCS):
a renewal invoice adds to what the order owes. Existing invoices are "order".

Revision ID: a16a_renewal_invoices
Revises: a14q_line_parts
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a16a_renewal_invoices"
down_revision: str | Sequence[str] | None = "a14q_line_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20),
                                      server_default="order", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_column("kind")
