"""When an API token was last used: recorded at most once a minute, never waiting, never failing.

Every authenticated request used to write the token's last-used time in a write transaction,
so on SQLite a plain GET queued behind another process's write lock and answered 500 once
the busy timeout ran out. Now the time is only written when the stored one is over a minute
old, in a transaction that does not wait for a lock (SQLite: busy timeout 0 for that one
statement; PostgreSQL: the row is locked with SKIP LOCKED in the UPDATE itself, so a row
another transaction holds is left alone) and whose failure is logged and forgotten: the
next request a minute later tries again. The request itself only ever reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import or_, select, update

from ordermill.core.models import ApiToken, utcnow

log = logging.getLogger("ordermill.auth")
TOUCH_EVERY = dt.timedelta(minutes=1)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def needs_touch(last_used: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return last_used is None or now - _aware(last_used) >= TOUCH_EVERY


def touch_token(mill: Any, token_id: int, last_used: dt.datetime | None) -> bool:
    """Record that token `token_id` was just used, when the stored time is over a minute old.

    Returns True when the time was written. Never raises and never waits for a lock.
    """
    now = utcnow()
    if not needs_touch(last_used, now):
        return False
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY)
    try:
        # a plain (deferred) session, not a write one: on SQLite a write session starts with
        # BEGIN IMMEDIATE, which would wait for the lock before the timeout below applies
        with mill.read_session() as session:
            if mill.is_sqlite:
                _touch_sqlite(session, update(ApiToken).where(ApiToken.id == token_id)
                              .where(stale).values(last_used_at=now))
            else:
                # one statement, its own transaction when read sessions autocommit (core.db)
                unlocked = select(ApiToken.id).where(ApiToken.id == token_id).where(stale) \
                    .with_for_update(skip_locked=True).scalar_subquery()
                session.execute(update(ApiToken).where(ApiToken.id == unlocked)
                                .values(last_used_at=now))
                session.commit()
    except Exception as error:  # bookkeeping only: the request goes on without it
        log.debug("token %s last-used time not recorded: %s", token_id, error)
        return False
    return True


def _touch_sqlite(session: Any, statement: Any) -> None:
    """Run the UPDATE with SQLite's busy timeout at 0 (fail at once if another process holds
    the write lock), then put the connection's busy timeout back before it returns to the
    pool."""
    connection = session.connection()
    waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        session.execute(statement)
        session.commit()
    finally:
        try:
            session.rollback()
            session.connection().exec_driver_sql(f"PRAGMA busy_timeout={int(waited or 0)}")
            session.commit()
        except Exception:
            connection.invalidate()  # never pool a connection that would not wait for locks
            raise
