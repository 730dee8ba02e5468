"""Giving a promo use back: an order cancelled or deleted before any payment did not really
use its code, so the use is released (once) and the code may be used again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ordermill.core.catalogue_models import PromoTerms, PromoUse
from ordermill.core.models import Order, utcnow

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext


def _captured(order: Order) -> bool:
    return any(p.kind == "charge" and p.status == "succeeded" for p in order.payments)


def _release(session: Session, number: str) -> None:
    use = session.scalar(select(PromoUse).where(PromoUse.order_number == number,
                                                PromoUse.released_at.is_(None)))
    if use is None:
        return
    use.released_at = utcnow()
    session.execute(update(PromoTerms).where(PromoTerms.promo_code_id == use.promo_code_id,
                                             PromoTerms.times_used > 0)
                    .values(times_used=PromoTerms.times_used - 1)
                    .execution_options(synchronize_session=False))


def release_if_cancelled_unpaid(session: Session, order: Order, ctx: ActionContext) -> None:
    if not order.promo_code or _captured(order):
        return
    if ctx.mill.statuses.category(order.status) != "cancelled":
        return
    _release(session, order.number)


def release_on_delete(session: Session, order: Order) -> None:
    if order.promo_code and not _captured(order):
        _release(session, order.number)
