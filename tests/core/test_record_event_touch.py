"""ctx.record_event(touch=...): history that changes the order moves its version; a note that
changes nothing on it (touch=False) leaves the version, so an admin's open form stays valid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.errors import StaleOrder
from ordermill.core.models import Order
from ordermill.core.specs import Actor


def test_a_note_keeps_the_version_and_a_change_moves_it(
        mill: Any, staff: Actor, order_factory: Callable[..., Order], make_product: Any) -> None:
    make_product()
    order = order_factory()
    seen = mill.orders.get(order.number).version
    with mill.orders.editing(order.number, actor=staff, action="note") as (locked, ctx):
        ctx.record_event(locked, "scanned", "Scanned at the door.", touch=False)
    assert mill.orders.get(order.number).version == seen
    mill.orders.add_comment(order.number, "still mine", actor=staff, expected_version=seen)

    seen = mill.orders.get(order.number).version
    with mill.orders.editing(order.number, actor=staff, action="change") as (locked, ctx):
        ctx.record_event(locked, "provisioned", "Service created.")
    assert mill.orders.get(order.number).version == seen + 1
    with pytest.raises(StaleOrder):
        mill.orders.add_comment(order.number, "too late", actor=staff, expected_version=seen)
