"""PostgreSQL: a token's lookup and last-use touch, with read sessions that autocommit.

Read sessions autocommit on PostgreSQL (core.db), so the touch is one UPDATE that locks the
token's row with SKIP LOCKED: a row locked elsewhere is left as it is, at once, and the next
request a minute later records the time.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.pool import NullPool

from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.models import ApiToken
from ordermill.core.staff import actor_for_token, create_token, create_user
from ordermill.core.token_use import touch_token
from ordermill.testing import postgres_base_url

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


def test_a_token_is_read_again_when_its_pooled_connection_was_just_dropped(
        mill: Ordermill) -> None:
    """A connection back in the pool for under a second is not pinged (core.db): when the
    server dropped it meanwhile, the token lookup reads again on a new one, and the request
    is not refused for it. (A mill of its own with one pooled connection: the one dropped.)"""
    create_user(mill, email="ops@shop.test", name="Ops", role="admin",
                password="correct horse battery")
    token = create_token(mill, email="ops@shop.test", name="lookup")
    url = mill.engine.url.render_as_string(hide_password=False)
    alone = Ordermill(mill.settings, engine=make_engine(url, pool_size=1, max_overflow=0))
    try:
        assert actor_for_token(alone, token).name == "ops@shop.test"
        with alone.read_session() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
        admin = make_engine(postgres_base_url(), poolclass=NullPool)
        with admin.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                     {"pid": pid})
            connection.commit()
        admin.dispose()
        assert actor_for_token(alone, token).name == "ops@shop.test"
        with alone.read_session() as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        alone.dispose()
