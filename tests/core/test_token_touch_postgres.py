"""PostgreSQL: recording a token's last use never waits for a row another transaction holds.

Read sessions autocommit on PostgreSQL (core.db), so the touch is one UPDATE that locks the
token's row with SKIP LOCKED: a row locked elsewhere is left as it is, at once, and the next
request a minute later records the time.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from ordermill.core.app import Ordermill
from ordermill.core.models import ApiToken
from ordermill.core.staff import create_token, create_user
from ordermill.core.token_use import touch_token

pytestmark = pytest.mark.commits  # a second transaction holds the row


@pytest.fixture(params=["postgresql"])
def ordermill_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def last_used(mill: Ordermill) -> object:
    with mill.read_session() as session:
        return session.scalar(select(ApiToken.last_used_at))


def test_a_locked_token_row_is_skipped_at_once_and_touched_when_free(mill: Ordermill) -> None:
    create_user(mill, email="ops@shop.test", name="Ops", role="admin",
                password="correct horse battery")
    create_token(mill, email="ops@shop.test", name="touch")
    with mill.read_session() as session:
        token_id = session.scalar(select(ApiToken.id))
    with mill.engine.connect() as holder:
        holder.execute(text("SELECT id FROM api_token WHERE id = :id FOR UPDATE"),
                       {"id": token_id})
        started = time.monotonic()
        assert touch_token(mill, token_id, None)  # ran, and changed nothing
        assert time.monotonic() - started < 2.0  # no lock wait (the row stays locked)
        assert last_used(mill) is None
        holder.rollback()
    assert touch_token(mill, token_id, None)
    assert last_used(mill) is not None
