"""idempotency keys scoped to their caller (issue 10 item 13)

Revision ID: a10a_api
Revises: 5cc8f495d254
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "a10a_api"
down_revision: str | Sequence[str] | None = "5cc8f495d254"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the caller to every idempotency record and make (scope, caller, key) unique.

    Rows stored before keep caller "" and their old scope ("POST /api/v1/orders user:5"):
    no new request looks them up again, so they simply age out.
    """
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=300), server_default="",
                                      nullable=False))
        batch_op.drop_constraint("uq_idempotency_record_scope_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_idempotency_record_scope_caller_key"), ["scope", "caller", "key"])


def downgrade() -> None:
    """Back to (scope, key): rows that only differ by caller would collide, so the caller is
    folded into the scope the way the old code wrote it."""
    idempotency = sa.table("idempotency_record", sa.column("id", sa.Integer()),
                           sa.column("scope", sa.String()), sa.column("caller", sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(idempotency.c.id, idempotency.c.scope,
                                        idempotency.c.caller)).all()
    for row_id, scope, caller in rows:
        folded = f"{scope} {caller}"
        if not caller:
            continue
        if len(folded) > 100:  # a retry cache entry the old column cannot hold: drop it
            connection.execute(idempotency.delete().where(idempotency.c.id == row_id))
        else:
            connection.execute(idempotency.update().where(idempotency.c.id == row_id)
                               .values(scope=folded))
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_constraint("uq_idempotency_record_scope_caller_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_idempotency_record_scope_key"), ["scope", "key"])
        batch_op.drop_column("caller")
