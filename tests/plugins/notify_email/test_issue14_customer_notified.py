"""Issue 14, item 5, with e-mail set up: the comment form does not warn, and a comment sent
to the buyer is recorded as "customer notified" because notify_email queued the message (a
job marked `to_customer`); a team-only message does not count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.models import Order, OutboxJob
from ordermill.core.notifications import customer_can_be_notified
from ordermill.core.specs import Actor
from ordermill.plugins.notify_email import jobs_for_event


def test_a_comment_mailed_to_the_buyer_is_recorded_as_notified(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Order], staff: Actor) -> None:
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    assert customer_can_be_notified(mill, order, staff) is True
    mill.orders.add_comment(order.number, "Your parcel left today.", actor=staff,
                            notify_customer=True)
    event = mill.orders.history(order.number)[-1]
    assert (event.type, event.notify_customer) == ("comment", True)
    with mill.read_session() as session:
        payloads = [job.payload for job in session.scalars(
            select(OutboxJob).where(OutboxJob.order_number == order.number))]
    assert any(p.get("event_id") == event.id and p.get("audience") == "customer"
               for p in payloads)


def test_only_customer_messages_are_marked_to_customer(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Order], staff: Actor) -> None:
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    placed = mill.orders.history(order.number)[0]
    with mill.read_session() as session:
        ctx = ActionContext(mill, staff, "place", session=session)
        jobs = jobs_for_event(order=order, event=placed, ctx=ctx)
    marks = {job.payload["audience"]: job.to_customer for job in jobs}
    assert marks == {"customer": True, "team": False}
