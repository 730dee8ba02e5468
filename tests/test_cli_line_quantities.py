"""`ordermill order cancel|refund --line ID:QTY` closes that many units of a line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordermill.core.app import Ordermill
from ordermill.core.models import Order


def test_cli_cancels_and_refunds_units_of_a_line(
        mill: Ordermill, cli: Any, make_product: Callable[..., Any],
        order_factory: Callable[..., Order]) -> None:
    make_product("SEAT", price=1000, stock=10, kind="ticket")
    make_product("MUG", price=800, stock=10)
    order = order_factory([("SEAT", 3), ("MUG", 1)], paid=True)
    seat, mug = (line.id for line in order.lines)

    result = cli("order", "refund", order.number, "--line", f"{seat}:1", "--line", str(mug))
    assert result.exit_code == 0, result.output
    assert "Refunded €18.00 for Seat x1, Mug x1." in " ".join(result.output.split())
    result = cli("order", "cancel", order.number, "--line", f"{seat}:1", "--no-restock")
    assert result.exit_code == 0, result.output
    lines = mill.orders.get(order.number).lines
    assert [(line.id == seat, line.quantity, line.status, line.parent_line_id)
            for line in lines] == [(True, 1, "active", None), (False, 1, "refunded", None),
                                   (False, 1, "refunded", seat), (False, 1, "cancelled", seat)]


def test_cli_refuses_a_bad_line_choice_in_one_line(
        mill: Ordermill, cli: Any, make_product: Callable[..., Any],
        order_factory: Callable[..., Order]) -> None:
    make_product("SEAT", price=1000, stock=10, kind="ticket")
    order = order_factory([("SEAT", 3)])
    seat = order.lines[0].id
    bad = cli("order", "cancel", order.number, "--line", f"{seat}:x")
    assert bad.exit_code == 2 and "use ID or ID:QTY" in bad.output
    too_many = cli("order", "cancel", order.number, "--line", f"{seat}:4")
    assert too_many.exit_code == 1
    assert "it has 3 unit(s) left to cancel" in too_many.output
    assert "Traceback" not in too_many.output
    assert [line.quantity for line in mill.orders.get(order.number).lines] == [3]
