"""An action's session and its attribute bookkeeping are freed when the action ends, by
reference counting alone (issue 20).

What is left in a reference cycle is freed only by Python's cyclic garbage collector; once it
has outlived a young collection, only a full collection frees it, and a full collection walks
every object of the process (~0.1 ms per action in the bench). The order and its rows are in
cycles on purpose (a line's `order` and the order's `lines`), but the session that carried
the action, and the attribute states the reports plugin reads in its flush listener, must not
be: they were (the settings cache held the session's transaction in the session's own info;
`inspect(order).attrs` builds states that point back at the object's). An action that only
loads an order and changes it (accept) leaves nothing at all: the rows it loads do not point
back at the order (`lock_order` leaves their `order` unloaded).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.state import AttributeState

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor


@pytest.fixture
def without_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _alive(kind: type) -> int:
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind))


@pytest.mark.ordermill_plugins("reports")  # its flush listener reads the orders' changes
def test_placing_paying_and_accepting_leave_no_session_or_attribute_state_behind(
        mill: Ordermill, make_product: Callable[..., Any], order_factory: Callable[..., Any],
        staff: Actor, without_cycle_collector: None) -> None:
    make_product(stock=None)
    assert "reports" in {info.name for info in mill.plugins.plugin_infos()}
    order_factory(paid=True, accepted=True)  # first use: caches and compiled statements
    sessions, states = _alive(Session), _alive(AttributeState)
    for _ in range(3):
        number = order_factory().number
        mill.orders.mark_paid(number, actor=staff)
        mill.orders.accept(number, actor=staff)
    assert _alive(Session) == sessions
    assert _alive(AttributeState) == states


def test_accepting_leaves_nothing_for_the_cycle_collector(
        mill: Ordermill, make_product: Callable[..., Any], order_factory: Callable[..., Any],
        staff: Actor, without_cycle_collector: None) -> None:
    make_product(stock=None)
    order_factory(accepted=True)  # first use: caches and compiled statements
    numbers = [order_factory().number for _ in range(3)]
    orders, sessions = _alive(Order), _alive(Session)
    for number in numbers:
        accepted = mill.orders.accept(number, actor=staff).order
        assert accepted is not None and accepted.invoices and accepted.invoices[0].id
    del accepted
    assert (_alive(Order), _alive(Session)) == (orders, sessions)
