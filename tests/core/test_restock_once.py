"""Every unit goes back to stock exactly once, and only when asked (woocommerce #22489, #29502)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.errors import PluginError
from ordermill.core.models import Order, OrderLine

START = {"A": 10, "B": 10, "C": 10}


@pytest.fixture
def placed(make_product: Any, order_factory: Any) -> Callable[..., Order]:
    """An order of A x2, B x3, C x1 from stock of 10 each."""
    for sku in START:
        make_product(sku, price=1000, stock=START[sku])

    def make(**kwargs: Any) -> Order:
        return order_factory([("A", 2), ("B", 3), ("C", 1)], **kwargs)

    return make


def stock(probe: Any) -> dict[str, int]:
    return {sku: probe.stock(sku) for sku in START}


def held(probe: Any, number: str) -> list[tuple[int, int]]:
    return [(line.units_held, line.units_released) for line in probe.order(number).lines]


def test_cancel_then_delete_with_restock(mill, placed, staff, probe):
    order = placed()
    assert stock(probe) == {"A": 8, "B": 7, "C": 9}
    mill.orders.cancel(order.number, actor=staff, restock=True)
    assert stock(probe) == START
    assert held(probe, order.number) == [(2, 2), (3, 3), (1, 1)]
    result = mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START
    assert result.preview["stock_released"] == {}
    assert probe.events(order.number)[-1].message == (
        "Order deleted for good, no stock left to return.")


def test_refund_with_restock_then_cancel_the_rest(mill, placed, staff, probe):
    order = placed(paid=True)
    a, b = (line.id for line in order.lines[:2])
    mill.orders.refund(order.number, actor=staff, line_ids=[a], restock=True)
    assert stock(probe) == {"A": 10, "B": 7, "C": 9}
    mill.orders.cancel(order.number, actor=staff, restock=True)
    assert stock(probe) == START
    assert held(probe, order.number) == [(2, 2), (3, 3), (1, 1)]
    # refunding the cancelled lines and the whole order returns nothing more
    mill.orders.refund(order.number, actor=staff, line_ids=[b], restock=True)
    mill.orders.refund(order.number, actor=staff, restock=True)
    assert stock(probe) == START
    assert probe.order(order.number).status == "refunded"
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START


def test_cancel_without_restock_then_delete_with_restock(mill, placed, staff, probe):
    order = placed()
    mill.orders.cancel(order.number, actor=staff, restock=False)
    assert stock(probe) == {"A": 8, "B": 7, "C": 9}
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START
    assert probe.events(order.number)[-1].data["units_released"] == 6


def test_mixed_restock_choices_line_by_line(mill, placed, staff, probe):
    order = placed(paid=True)
    a, b, _c = (line.id for line in order.lines)
    mill.orders.cancel(order.number, actor=staff, line_ids=[a], restock=False)
    mill.orders.refund(order.number, actor=staff, line_ids=[b], restock=True)
    assert stock(probe) == {"A": 8, "B": 10, "C": 9}
    # refunding the cancelled-without-restock line with restock returns its units now
    mill.orders.refund(order.number, actor=staff, line_ids=[a], restock=True)
    assert stock(probe) == {"A": 10, "B": 10, "C": 9}
    mill.orders.cancel_and_refund(order.number, actor=staff, restock=False)
    assert stock(probe) == {"A": 10, "B": 10, "C": 9}
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START


def test_refund_without_restock_then_cancel_with_restock_then_delete(mill, placed, staff,
                                                                    probe):
    order = placed(paid=True)
    a = order.lines[0].id
    mill.orders.refund(order.number, actor=staff, line_ids=[a], restock=False)
    mill.orders.cancel(order.number, actor=staff, restock=True)  # the active lines only
    assert stock(probe) == {"A": 8, "B": 10, "C": 10}
    mill.orders.refund(order.number, actor=staff, restock=False)
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START


def test_delete_without_restock_after_partial_restock(mill, placed, staff, probe):
    order = placed()
    mill.orders.cancel(order.number, actor=staff, line_ids=[order.lines[1].id], restock=True)
    mill.orders.cancel(order.number, actor=staff, restock=False)
    mill.orders.delete(order.number, actor=staff, restock=False)
    assert stock(probe) == {"A": 8, "B": 10, "C": 9}
    assert probe.events(order.number)[-1].data["units_written_off"] == 3


@pytest.mark.parametrize("how", ["set_status", "bulk"])
def test_status_cancel_then_delete(mill, placed, staff, probe, how):
    order = placed()
    if how == "set_status":
        mill.orders.set_status(order.number, "cancelled", actor=staff)
    else:
        mill.orders.bulk_set_status([order.number], "cancelled", actor=staff)
    assert stock(probe) == START
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert stock(probe) == START


def test_cancelled_units_are_for_sale_again_and_held_by_the_next_order(
        mill, placed, order_factory, staff, probe):
    first = placed()
    mill.orders.cancel(first.number, actor=staff)
    second = placed()
    assert stock(probe) == {"A": 8, "B": 7, "C": 9}
    mill.orders.delete(first.number, actor=staff, restock=True)  # must not touch second's units
    assert stock(probe) == {"A": 8, "B": 7, "C": 9}
    mill.orders.delete(second.number, actor=staff, restock=True)
    assert stock(probe) == START


# ---- a plugin that takes over restocking -------------------------------------------------


class SeatingPlan:
    """Releases numbered seats instead of product stock (DESIGN.md's example)."""

    def __init__(self, skus: set[str]) -> None:
        self.skus = skus
        self.released: list[tuple[str, int]] = []

    @hookimpl
    def restock(self, line: OrderLine, quantity: int, ctx: Any) -> bool | None:
        if line.sku not in self.skus:
            return None  # not mine: the built-in restock handles it
        self.released.append((line.sku, quantity))
        return True


def test_a_restock_plugin_takes_over_once_per_unit(mill, placed, staff, probe,
                                                   register_plugin):
    plan = register_plugin(SeatingPlan({"A"}), name="seating-plan")
    order = placed(paid=True)
    mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    mill.orders.cancel(order.number, actor=staff)
    mill.orders.refund(order.number, actor=staff)
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert plan.released == [("A", 2)]  # type: ignore[attr-defined]
    assert stock(probe) == {"A": 8, "B": 10, "C": 10}  # A went back to the plan, not stock


def test_a_restock_plugin_that_fails_aborts_the_action(mill, placed, staff, probe,
                                                       register_plugin):
    class Broken:
        @hookimpl
        def restock(self, line: OrderLine, quantity: int, ctx: Any) -> bool:
            raise RuntimeError("seat map offline")

    register_plugin(Broken(), name="broken-restock")
    order = placed()
    before = probe.snapshot(order.number)
    with pytest.raises(PluginError, match="Plugin 'broken-restock' failed in restock: "
                                          "RuntimeError: seat map offline"):
        mill.orders.cancel(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)
    # without a restock the plugin is not asked
    mill.orders.cancel(order.number, actor=staff, restock=False)
    assert probe.order(order.number).status == "cancelled"


def test_unlimited_products_hold_and_release_nothing(mill, make_product, order_factory, staff,
                                                     probe):
    make_product("HOSTING", stock=None, kind="service")
    order = order_factory([("HOSTING", 2)])
    result = mill.orders.cancel(order.number, actor=staff)
    assert result.preview["stock_released"] == {}
    assert probe.stock("HOSTING") is None
