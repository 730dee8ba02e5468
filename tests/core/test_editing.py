"""mill.orders.editing and ctx.record_event: a plugin's own action on one locked order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.errors import OrderNotFound, PermissionDenied
from ordermill.core.models import Order, OutboxJob
from ordermill.core.specs import Actor, JobRequest


def test_editing_commits_the_event_and_jobs_together(
        mill: Any, staff: Actor, order_factory: Callable[..., Order], make_product: Any,
        probe: Any) -> None:
    make_product()
    order = order_factory()
    with mill.orders.editing(order.number, actor=staff, action="check_in") as (locked, ctx):
        ctx.record_event(locked, "ticket_checked_in", "Ticket T-1 checked in.",
                         data={"code": "T-1"})
        ctx.enqueue(JobRequest("demo.kind", {"n": 1}))
    event = probe.events(order.number)[-1]
    assert (event.type, event.actor, event.data) == ("ticket_checked_in", staff.label,
                                                     {"code": "T-1"})
    assert not event.visible_to_customer
    assert probe.count(OutboxJob) >= 1
    assert probe.order(order.number).updated_at >= order.updated_at


def test_editing_rolls_everything_back_when_the_block_raises(
        mill: Any, staff: Actor, order_factory: Callable[..., Order], make_product: Any,
        probe: Any) -> None:
    make_product()
    order = order_factory()
    before = probe.snapshot(order.number)
    with pytest.raises(ValueError), \
            mill.orders.editing(order.number, actor=staff, action="x") as (locked, ctx):
        ctx.record_event(locked, "x", "never stored")
        ctx.enqueue(JobRequest("demo.kind", {"n": 2}))
        raise ValueError("plugin changed its mind")
    probe.assert_unchanged(before, order.number)


def test_editing_checks_the_permission_and_the_number(
        mill: Any, order_factory: Callable[..., Order], make_product: Any) -> None:
    make_product()
    order = order_factory()
    clerk = Actor(kind="user", name="viewer@shop.test", role="viewer")
    with pytest.raises(PermissionDenied), mill.orders.editing(
            order.number, actor=clerk, action="x", permission="edit_orders"):
        pass
    with pytest.raises(OrderNotFound), mill.orders.editing(
            "0000000000", actor=clerk, action="x"):
        pass
