"""The demo shop's recurring orders (the core's `on_demo_loaded` hook): one in every status.

The demo's paid orders that bill again already started their subscriptions at their first
payment; this sets a few of them to the other statuses directly (Suspended and Completed
through the staff actions, Failed and Processing as the scheduler leaves them), so the
"Recurring orders" tab shows each without any job failing when the demo starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from ordermill.api import event_msg, event_ngettext, utcnow
from ordermill.plugins.subscriptions import engine
from ordermill.plugins.subscriptions.i18n import DOMAIN
from ordermill.plugins.subscriptions.models import ACTIVE, FAILED, PROCESSING, Subscription

if TYPE_CHECKING:
    from ordermill.api import Ordermill

DEMO_ERROR = "Your card has insufficient funds."


def seed(mill: Ordermill, numbers: Sequence[str]) -> list[str]:
    """Give the demo's subscriptions every status; answers their statuses, in order."""
    with mill.read_session() as session:
        subs = list(session.scalars(select(Subscription)
                                    .where(Subscription.order_number.in_(list(numbers)))
                                    .order_by(Subscription.id)))
    open_ended = [sub.id for sub in subs if sub.total_count is None and sub.status == ACTIVE]
    plan = {"suspend": None, "fail": None, "process": None, "complete": None}
    for name, sub_id in zip(plan, open_ended[1:], strict=False):  # the first stays Active
        plan[name] = sub_id
    if plan["suspend"] is not None:
        engine.act(mill, plan["suspend"], "suspend", actor=engine.SYSTEM,
                   comment="Paused at the customer's request (demo).")
    if plan["complete"] is not None:
        engine.act(mill, plan["complete"], "complete", actor=engine.SYSTEM)
    for name, status in (("fail", FAILED), ("process", PROCESSING)):
        sub_id = plan[name]
        if sub_id is None:
            continue
        with engine.changing(mill, sub_id, actor=engine.SYSTEM, action="demo",
                             permission=None) as (sub, order, ctx):
            sub.status = status
            if status == FAILED:
                sub.attempts, sub.last_error, sub.ended_at = 3, DEMO_ERROR, utcnow()
                text = event_ngettext(
                    "Subscription %(id)s failed: the payment was declined once.",
                    "Subscription %(id)s failed: the payment was declined %(num)s times.",
                    sub.attempts, catalog_domain=DOMAIN, id=sub.id)
            else:
                sub.claimed_by = "demo"
                text = event_msg("Subscription %(id)s: a payment is being taken.",
                                 catalog_domain=DOMAIN, id=sub.id)
            engine.record(ctx, order, "subscription_demo", text, subscription=sub)
    with mill.read_session() as session:
        return list(session.scalars(select(Subscription.status)
                                    .where(Subscription.order_number.in_(list(numbers)))
                                    .order_by(Subscription.id)))
