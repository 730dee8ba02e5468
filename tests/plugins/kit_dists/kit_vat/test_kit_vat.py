"""The VAT plugin's history test: exactly its own note, whatever else is installed."""

import pytest

pytestmark = pytest.mark.ordermill_plugins("kit_vat")


def test_history_has_the_vat_note(mill, make_product, order_factory):
    make_product("MUG")
    order = order_factory([("MUG", 1)])
    comments = [event.comment or event.message for event in mill.orders.history(order.number)
                if event.type == "comment"]
    assert comments == ["Prices include 19% VAT."]
