"""Action transactions that survive a lost database connection, and errors that say the truth.

A PostgreSQL server may drop a connection at any moment (a restart, a fail-over, an admin's
pg_terminate_backend), and SQLite may be write-locked by another process for longer than the
busy timeout. Where that happens decides what is true and what is safe:

- before COMMIT: nothing was changed. The action is run once more on a fresh connection
  (`retry_once`), unless it already called something outside the database (a gateway refund:
  see ActionContext.outside_call), which a second run would repeat;
- during COMMIT: the server may or may not have committed. Every action writes an OrderEvent,
  so the events flushed in the transaction are looked up on a new connection: found, the
  action goes on with its committed result; absent, nothing was changed; unreadable, the
  error says the outcome is unknown and how to check it;
- a database that cannot be reached or is locked answers 503 with Retry-After.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ordermill.core import writes
from ordermill.core.errors import OrdermillError, StaleOrder
from ordermill.core.i18n import gettext as _
from ordermill.core.invoicing import number_documents
from ordermill.core.models import OrderEvent

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext

log = logging.getLogger("ordermill.db")
P = ParamSpec("P")
R = TypeVar("R")
RETRY_AFTER_SECONDS = 2
CHECK_BY_KEY = ("For a new order, send the same request again with the same Idempotency-Key: "
                "an order already placed is returned, never placed twice. Otherwise reload the "
                "order and look at its history before trying again.")

# SQLSTATEs (PostgreSQL) and message fragments (any driver) of each kind of trouble
_LOST_STATES = {"57P01", "57P02", "08000", "08003", "08006", "08007"}
_UNAVAILABLE_STATES = {"57P03", "53300", "08001", "08004"}
_BUSY_STATES = {"55P03", "40001", "40P01"}
_LOST_TEXT = ("server closed the connection", "terminating connection", "connection is closed",
              "connection already closed", "connection is lost", "consuming input failed",
              "ssl connection has been closed", "could not receive data",
              "connection reset by peer", "broken pipe")
_UNAVAILABLE_TEXT = ("could not connect", "connection refused", "connection failed",
                     "the database system is", "too many clients", "timeout expired",
                     "remaining connection slots", "no route to host")
_BUSY_TEXT = ("database is locked", "database table is locked", "database is busy")


class DatabaseUnavailable(OrdermillError):
    """The database cannot be reached right now; nothing was changed."""

    code = "database_unavailable"
    http_status = 503
    retry_after = RETRY_AFTER_SECONDS


class DatabaseBusy(DatabaseUnavailable):
    """Another process holds the write lock (SQLite) or a lock timed out; nothing changed."""

    code = "database_busy"


class ConnectionLost(DatabaseUnavailable):
    """The connection dropped before COMMIT: nothing was changed; safe to run again."""

    code = "database_connection_lost"

    def __init__(self, message: str, *, retryable: bool = True,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.retryable = retryable


class OutcomeUnknown(DatabaseUnavailable):
    """The change may or may not have been saved: the client must check before retrying."""

    code = "outcome_unknown"


class SavedAnswerLost(DatabaseUnavailable):
    """The change was committed, but the answer could not be read back: do not resend."""

    code = "saved_answer_lost"


def database_error(error: BaseException | None) -> DBAPIError | None:
    """The DBAPIError behind an error, following causes (plugin errors wrap them)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DBAPIError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def classify(error: BaseException) -> str | None:
    """'lost', 'unavailable' or 'busy' for a transient database failure; None otherwise."""
    found = database_error(error)
    if found is None:
        return None
    state = str(getattr(found.orig, "sqlstate", "") or "")
    text = str(found.orig).lower()
    if found.connection_invalidated or state in _LOST_STATES \
            or any(part in text for part in _LOST_TEXT):
        return "lost"
    if state in _BUSY_STATES or any(part in text for part in _BUSY_TEXT):
        return "busy"
    if state in _UNAVAILABLE_STATES or any(part in text for part in _UNAVAILABLE_TEXT):
        return "unavailable"
    return None


def unavailable(kind: str) -> DatabaseUnavailable:
    """The 503 error for a transient failure of `kind` that changed nothing."""
    if kind == "busy":
        return DatabaseBusy("The database is busy (another process is writing to it); nothing "
                            "was changed. Try again in a few seconds.")
    if kind == "lost":
        return ConnectionLost("The connection to the database was lost; nothing was changed. "
                              "Try again in a few seconds.", retryable=False)
    return DatabaseUnavailable("The database cannot be reached right now; nothing was "
                               "changed. Try again in a few seconds.")


def retry_once(action: Callable[P, R]) -> Callable[P, R]:
    """Run an order action a second time when its first run lost its database connection
    before COMMIT (nothing changed, nothing outside called); the second gets a fresh one."""

    @functools.wraps(action)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return action(*args, **kwargs)
        except ConnectionLost as error:
            if not error.retryable:
                raise
            error.retryable = False  # an enclosing retry_once must not run it a third time
            log.warning("database connection lost in %s before commit; running it again on "
                        "a fresh connection", action.__name__)
        return action(*args, **kwargs)

    return run


def retry_read(read: Callable[P, R]) -> Callable[P, R]:
    """Run a read-only query again, once, when its connection was lost: always safe."""

    @functools.wraps(read)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except DBAPIError as error:
            if classify(error) != "lost":
                raise
            log.warning("database connection lost in %s; reading again", read.__name__)
        return read(*args, **kwargs)

    return run


EVENTS_WRITTEN = "ordermill.events_written"  # session.info: (id, number, type) of its events


def _note_events(flushing: Session, _context: Any) -> None:
    """after_flush of every session: an action transaction's flushed events (one listener
    for all: listening on each new session cost more than the check)."""
    flushed = flushing.info.get(EVENTS_WRITTEN)
    if flushed is not None:
        flushed.extend((obj.id, obj.order_number, obj.type) for obj in flushing.new
                       if isinstance(obj, OrderEvent) and obj.id is not None)


event.listen(Session, "after_flush", _note_events)


@contextmanager
def action_transaction(mill: Any, ctx: ActionContext) -> Iterator[Session]:
    """One write transaction for an action: committed, or rolled back for a dry run or an
    error. A concurrent change caught by the version column becomes StaleOrder; a lost
    connection or a busy database becomes the error that says what happened (see above)."""
    session = mill.write_session()
    flushed: list[tuple[int, str, str]] = []
    session.info[EVENTS_WRITTEN] = flushed  # _note_events fills it; events inserted without
    # a flush add themselves
    transaction = session.begin()
    ctx.session = session
    committing = False
    try:
        yield session
        if ctx.dry_run:
            transaction.rollback()
        else:
            session.flush()  # a failure up to here is before COMMIT: nothing was saved
            # the last step: invoice and credit note numbers, so the counter row is locked
            # for microseconds, after fraud checks and gateway calls (core.invoicing)
            number_documents(session, ctx)
            session.flush()
            committing = True
            transaction.commit()
            writes.record_changes([(number, kind) for _id, number, kind in flushed])
    except StaleDataError:
        _rollback(session)
        raise StaleOrder(_("The order was changed by someone else while you worked on it. Reload "
                           "it and try again; nothing was changed.")) from None
    except Exception as error:
        kind = classify(error)
        if kind is None:
            _rollback(session)
            raise
        if committing and kind == "lost":
            saved = _committed(mill, [event_id for event_id, _n, _k in flushed])
            if saved:
                session.expunge_all()  # keep the committed objects as they are for the caller
                _rollback(session)
                writes.commit_done()
                writes.record_changes([(number, kind) for _id, number, kind in flushed])
                log.warning("database connection lost during COMMIT of %s; read back: "
                            "committed", ctx.action)
                return
            _rollback(session)
            if saved is None:
                raise OutcomeUnknown(
                    _("The connection to the database was lost while saving %(action)s, and "
                      "whether it was saved cannot be read back yet. %(CHECK_BY_KEY)s",
                      action=ctx.action, CHECK_BY_KEY=CHECK_BY_KEY),
                    details={"action": ctx.action}) from error
            writes.commit_not_done()
        else:
            _rollback(session)
        raise _lost_or_unavailable(kind, ctx) from error
    except BaseException:
        _rollback(session)
        raise
    finally:
        session.close()
        ctx.session = None


def _lost_or_unavailable(kind: str, ctx: ActionContext) -> DatabaseUnavailable:
    calls = list(ctx.notes.get("outside_calls", []))
    if not calls:
        error = unavailable(kind)
        if isinstance(error, ConnectionLost):
            error.retryable = True
        return error
    return OutcomeUnknown(
        f"The connection to the database was lost after {', '.join(calls)} was requested: "
        f"the order was not changed, but {calls[-1]} may have gone through. Check with the "
        f"gateway before trying again.", details={"action": ctx.action, "outside_calls": calls})


def _committed(mill: Any, event_ids: list[int]) -> bool | None:
    """Whether the events of a transaction whose COMMIT was cut off are stored: True, False,
    or None when there is nothing to look for or the database cannot be read."""
    if not event_ids:
        return None
    for _attempt in range(2):
        try:
            with mill.read_session() as session:
                found = session.scalar(select(func.count()).select_from(OrderEvent)
                                       .where(OrderEvent.id.in_(event_ids)))
        except DBAPIError as error:
            if classify(error) is None:
                return None
            continue
        if found == len(event_ids):
            return True
        return False if found == 0 else None
    return None


def _rollback(session: Session) -> None:
    with suppress(Exception):  # the connection may be gone: there is nothing left to undo
        session.rollback()
