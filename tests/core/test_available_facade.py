"""mill.orders.available_actions answers what core.available answers, for the admin and API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordermill.core.available import available_actions
from ordermill.core.models import Order
from ordermill.core.specs import Actor


def test_the_order_service_offers_the_core_answer(
        mill: Any, staff: Actor, make_product: Any, order_factory: Callable[..., Order]) -> None:
    make_product()
    pending = order_factory()
    offered = mill.orders.available_actions(pending, staff)
    assert offered == available_actions(mill, pending, staff)
    assert "accept" in offered
    mill.orders.cancel(pending.number, actor=staff)
    cancelled = mill.orders.get(pending.number)
    assert "accept" not in mill.orders.available_actions(cancelled, staff)
    viewer = Actor(kind="user", name="v@shop.test", role="viewer")
    assert mill.orders.available_actions(cancelled, viewer) == []
