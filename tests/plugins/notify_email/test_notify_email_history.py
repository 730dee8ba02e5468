"""The `email_sent` event is written by the action runner (mill.orders.editing +
ctx.record_event) together with the job's end, and leaves the order itself untouched."""

from __future__ import annotations

from typing import Any

from ordermill.core.specs import Actor
from ordermill.plugins.notify_email.handler import ACTOR
from ordermill.plugins.notify_email.testing import SmtpSink


def test_email_sent_is_one_commit_with_the_job_and_keeps_the_order_version(
        mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Actor) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    before = mill.orders.get(order.number)
    assert mill.outbox.run_until_empty() == 2  # confirmation to the buyer, new order to the team
    assert dict(mill.outbox.counts()) == {"done": 2}
    sent = [e for e in mill.orders.history(order.number) if e.type == "email_sent"]
    assert sorted(e.data["template"] for e in sent) == ["order_confirmation", "team_new_order"]
    assert {e.actor for e in sent} == {ACTOR}
    assert not any(e.visible_to_customer or e.notify_customer for e in sent)
    assert {e.data["source_event_type"] for e in sent} == {"placed"}
    after = mill.orders.get(order.number)
    # an admin who opened the order before the mail went out can still act on it
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    accepted = mill.orders.accept(order.number, actor=staff, expected_version=before.version)
    assert accepted.order is not None and accepted.order.status == "active"
