"""A restock that returned nothing is said in the history: with the `restock` plugin blocked
(or a plugin keeping the units on purpose) cancel, refund and cancel-and-refund leave the
stock held, and their event says so in its message and as `data["stock_kept"]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from sqlalchemy import select

from ordermill.api import ActionContext, Order, OrderLine, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.core.plugins import PluginHost
from ordermill.core.specs import Actor
from ordermill.testing import order_request


@pytest.fixture
def without_restock(mill: Ordermill) -> Ordermill:
    """The same shop with the built-in `restock` plugin blocked."""
    settings = attrs.evolve(mill.settings, block_plugins=("restock",))
    return Ordermill(settings, plugins=PluginHost(settings), engine=mill.engine)


def place(app: Ordermill, staff: Actor, lines: list[tuple[str, int]], *,
          paid: bool = False) -> Order:
    result = app.orders.place(order_request(lines), actor=staff)
    assert result.order is not None
    if paid:
        app.orders.mark_paid(result.order.number, actor=staff)
    return app.orders.get(result.order.number)


def _stock(app: Ordermill, sku: str) -> int | None:
    with app.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def last_event(app: Ordermill, number: str) -> Any:
    return app.orders.history(number)[-1]


def test_cancel_without_a_restock_plugin_keeps_the_stock_and_says_so(
        without_restock: Ordermill, make_product: Callable[..., Any], staff: Actor) -> None:
    make_product("MUG", stock=10)
    order = place(without_restock, staff, [("MUG", 3)])
    assert _stock(without_restock, "MUG") == 7

    result = without_restock.orders.cancel(order.number, actor=staff)

    assert _stock(without_restock, "MUG") == 7  # held, not back on sale
    stored = without_restock.orders.get(order.number)
    assert [(line.units_held, line.units_released) for line in stored.lines] == [(3, 0)]
    event = last_event(without_restock, order.number)
    assert event.type == "cancelled"
    assert event.message == ("Order cancelled. Stock not released: no restock plugin returned "
                             "MUG x3, so the units stay held.")
    assert event.data["stock_kept"] == {"MUG": 3}
    assert result.preview["stock_released"] == {}
    assert result.preview["data"]["stock_kept"] == {"MUG": 3}


def test_refund_and_cancel_and_refund_without_a_restock_plugin_say_so(
        without_restock: Ordermill, make_product: Callable[..., Any], staff: Actor) -> None:
    make_product("MUG", stock=10)
    make_product("CAP", stock=10)
    refunded = place(without_restock, staff, [("MUG", 2), ("CAP", 1)], paid=True)
    both = place(without_restock, staff, [("CAP", 4)], paid=True)

    without_restock.orders.refund(refunded.number, actor=staff)
    without_restock.orders.cancel_and_refund(both.number, actor=staff)

    assert (_stock(without_restock, "MUG"), _stock(without_restock, "CAP")) == (8, 5)
    event = last_event(without_restock, refunded.number)
    assert event.type == "refunded"
    assert event.message.endswith(" Stock not released: no restock plugin returned MUG x2, "
                                  "CAP x1, so the units stay held.")
    assert event.data["stock_kept"] == {"MUG": 2, "CAP": 1}
    event = last_event(without_restock, both.number)
    assert event.type == "cancelled_and_refunded"
    assert event.message.endswith(" Stock not released: no restock plugin returned CAP x4, "
                                  "so the units stay held.")
    assert event.data["stock_kept"] == {"CAP": 4}


def test_a_plugin_keeping_the_units_on_purpose_is_noted_too_and_a_later_restock_releases(
        mill: Ordermill, register_plugin: Callable[..., Any],
        make_product: Callable[..., Any], staff: Actor) -> None:
    class Quarantine:
        """Returned goods of SKU MUG wait for inspection: kept held (False)."""

        def __init__(self) -> None:
            self.keep = True

        @hookimpl(tryfirst=True)
        def restock(self, line: OrderLine, quantity: int, ctx: ActionContext) -> bool | None:
            return False if self.keep and line.sku == "MUG" else None

    quarantine = register_plugin(Quarantine(), name="quarantine")
    make_product("MUG", stock=10)
    make_product("CAP", stock=10)
    order = place(mill, staff, [("MUG", 1), ("CAP", 2)])

    mill.orders.cancel(order.number, actor=staff)

    assert (_stock(mill, "MUG"), _stock(mill, "CAP")) == (9, 10)
    event = last_event(mill, order.number)
    assert event.message == ("Order cancelled. Stock released. Stock not released: no restock "
                             "plugin returned MUG x1, so the units stay held.")
    assert event.data["stock_kept"] == {"MUG": 1}

    quarantine.keep = False  # inspected: deleting with restock now returns the mug
    mill.orders.delete(order.number, actor=staff, restock=True)
    assert _stock(mill, "MUG") == 10


def test_with_the_restock_plugin_or_without_a_restock_nothing_is_noted(
        mill: Ordermill, make_product: Callable[..., Any], staff: Actor) -> None:
    make_product("MUG", stock=10)
    restocked = place(mill, staff, [("MUG", 1)])
    kept = place(mill, staff, [("MUG", 1)])

    mill.orders.cancel(restocked.number, actor=staff)
    mill.orders.cancel(kept.number, actor=staff, restock=False)

    assert last_event(mill, restocked.number).message == "Order cancelled. Stock released."
    assert "stock_kept" not in last_event(mill, restocked.number).data
    assert last_event(mill, kept.number).message == "Order cancelled."
    assert "stock_kept" not in last_event(mill, kept.number).data
    assert _stock(mill, "MUG") == 9
