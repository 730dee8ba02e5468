"""The pickup plugin's history test: its note, then the move to its status, nothing else."""

import pytest

pytestmark = pytest.mark.ordermill_plugins("kit_pickup")


def test_history_of_a_pickup_order(mill, make_product, order_factory, staff):
    make_product("MUG")
    order = order_factory([("MUG", 1)], paid=True, accepted=True)
    mill.orders.set_status(order.number, "awaiting_pickup", actor=staff)
    events = mill.orders.history(order.number)
    comments = [event.comment or event.message for event in events if event.type == "comment"]
    assert comments == ["Collect at the desk."]
    assert mill.orders.get(order.number).status == "awaiting_pickup"
