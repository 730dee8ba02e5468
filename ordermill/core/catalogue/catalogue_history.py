"""The catalogue's history (one CatalogueEvent per change) and its one write transaction.

Order events need an order; a product or promo code change has none, so it is kept here,
written in the same transaction as the change, and shown on the product's page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core.catalogue_models import CatalogueEvent
from ordermill.core.context import jsonable, message_columns
from ordermill.core.labels import event_message
from ordermill.core.models import utcnow
from ordermill.core.specs import Actor


@contextmanager
def transaction(mill: Any, *, dry_run: bool = False) -> Iterator[Session]:
    """One write transaction; a dry run takes the same path and rolls back."""
    with mill.write_session() as session:
        tx = session.begin()
        try:
            yield session
            session.flush()
        except BaseException:
            tx.rollback()
            raise
        if dry_run:
            tx.rollback()
        else:
            tx.commit()


def record(session: Session, actor: Actor, subject: str, key: str, type: str, message: str,
           data: dict[str, Any] | None = None) -> CatalogueEvent:
    """One row of the catalogue's history; `message` an event_msg(...) so that each reader
    sees it in their language (the English text is stored beside its id and parameters)."""
    event = CatalogueEvent(subject=subject, key=key, type=type, actor=actor.label,
                           data=jsonable(data or {}), created_at=utcnow(),
                           **message_columns(message))
    session.add(event)
    return event


def events(session: Session, subject: str, key: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(CatalogueEvent).where(
        CatalogueEvent.subject == subject, CatalogueEvent.key == key)
        .order_by(CatalogueEvent.id.desc()).limit(limit))
    return [{"type": e.type, "actor": e.actor, "message": event_message(e), "data": e.data,
             "created_at": e.created_at.isoformat()} for e in rows]
