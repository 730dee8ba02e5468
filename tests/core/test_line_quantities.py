"""Cancelling and refunding some units of a line (core.line_parts): the units split off into a
line of their own, stock follows unit by unit and exactly once, money adds up to the cent,
and the hooks see the part that closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.core.line_parts import share
from ordermill.core.models import Order, OrderLine
from ordermill.core.specs import Actor
from ordermill.core.statuses import amount_due, line_summary, payment_status


@pytest.fixture
def placed(make_product: Callable[..., Any], order_factory: Callable[..., Order]
           ) -> Callable[..., Order]:
    make_product("SEAT", price=1000, stock=10, kind="ticket")
    make_product("MUG", price=800, stock=10)

    def make(**kwargs: Any) -> Order:
        return order_factory([("SEAT", 3), ("MUG", 1)], **kwargs)

    return make


def parts(order: Order) -> list[tuple[str, int, str, int, int, int, int | None]]:
    return [(line.sku, line.quantity, line.status, line.total, line.units_held,
             line.units_released, line.parent_line_id) for line in order.lines]


def test_shares_round_down_and_the_last_units_carry_the_remainder() -> None:
    total, left, taken = 1000, 3, []
    for _ in range(3):
        piece = share(total, left, 1)
        taken.append(piece)
        total, left = total - piece, left - 1
    assert taken == [333, 333, 334] and sum(taken) == 1000
    assert share(1000, 3, 3) == 1000 and share(0, 3, 1) == 0


def test_cancel_without_restock_then_refund_that_part_with_restock(
        mill: Ordermill, placed: Callable[..., Order], staff: Actor, probe: Any) -> None:
    order = placed(paid=True)
    seat = order.lines[0].id
    mill.orders.cancel(order.number, actor=staff, lines={seat: 1}, restock=False)
    order = mill.orders.get(order.number)
    assert parts(order) == [("SEAT", 2, "active", 2000, 2, 0, None),
                            ("MUG", 1, "active", 800, 1, 0, None),
                            ("SEAT", 1, "cancelled", 1000, 1, 0, seat)]
    assert probe.stock("SEAT") == 7  # kept held: not asked to restock
    assert line_summary(order) == "3/4 Complete" and amount_due(order) == 0
    part = order.lines[2].id
    # the cancelled part is a line of its own: refund it, its unit now goes back
    result = mill.orders.refund(order.number, actor=staff, line_ids=[part], restock=True)
    assert result.preview["amount_refunded"] == "10.00"
    assert result.preview["stock_released"] == {"SEAT": 1}
    order = mill.orders.get(order.number)
    assert parts(order)[2] == ("SEAT", 1, "refunded", 1000, 1, 1, seat)
    assert probe.stock("SEAT") == 8
    assert payment_status(order) == "partially_refunded"
    # cancelling the rest releases the two units still held, and nothing twice
    mill.orders.cancel(order.number, actor=staff, restock=True)
    assert probe.stock("SEAT") == 10 and probe.stock("MUG") == 10


def test_refund_part_of_a_cancelled_line_splits_it_again(
        mill: Ordermill, placed: Callable[..., Order], staff: Actor) -> None:
    order = placed(paid=True)
    seat = order.lines[0].id
    mill.orders.cancel(order.number, actor=staff, line_ids=[seat], restock=False)
    mill.orders.refund(order.number, actor=staff, lines=[(seat, 2)])
    order = mill.orders.get(order.number)
    assert [(line.id == seat, line.quantity, line.status, line.refunded_amount)
            for line in order.lines if line.sku == "SEAT"] == [
        (True, 1, "cancelled", 0), (False, 2, "refunded", 2000)]


def test_hooks_see_the_part_that_closed(
        mill: Ordermill, placed: Callable[..., Order], staff: Actor,
        register_plugin: Callable[..., Any]) -> None:
    seen: list[tuple[str, int | None, int, int]] = []

    class Watcher:
        @hookimpl(tryfirst=True)
        def restock(self, line: OrderLine, quantity: int, ctx: Any) -> None:
            seen.append(("restock", line.parent_line_id, line.quantity, quantity))

        @hookimpl
        def on_cancel(self, order: Order, lines: list[OrderLine], ctx: Any) -> None:
            seen.extend(("on_cancel", line.parent_line_id, line.quantity, line.id or 0)
                        for line in lines)

    register_plugin(Watcher(), name="watcher")
    order = placed()
    seat = order.lines[0].id
    mill.orders.cancel(order.number, actor=staff, lines={seat: 2})
    part = mill.orders.get(order.number).lines[2].id
    assert seen == [("restock", seat, 2, 2), ("on_cancel", seat, 2, part)]


def test_choices_checked_before_anything_changes(
        mill: Ordermill, placed: Callable[..., Order], staff: Actor, probe: Any) -> None:
    order = placed()
    seat, mug = (line.id for line in order.lines)
    for lines, words in [({seat: 1, mug: 2}, "it has 1 unit(s) left"),
                         ({seat: True}, "at least 1"), ([(seat, 1), (seat, 1)], "twice")]:
        with pytest.raises(InvalidInput, match=words.replace("(", r"\(").replace(")", r"\)")):
            mill.orders.cancel(order.number, actor=staff, lines=lines)
    with pytest.raises(InvalidInput, match="not both"):
        mill.orders.refund(order.number, actor=staff, line_ids=[mug], lines={seat: 1})
    assert parts(mill.orders.get(order.number)) == parts(order)
    assert probe.stock("SEAT") == 7


def test_delete_after_a_split_keeps_stock_right(
        mill: Ordermill, placed: Callable[..., Order], staff: Actor, probe: Any) -> None:
    order = placed()
    mill.orders.cancel(order.number, actor=staff, lines={order.lines[0].id: 1})
    mill.orders.cancel(order.number, actor=staff, restock=False)
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert probe.stock("SEAT") == 10 and probe.stock("MUG") == 10
