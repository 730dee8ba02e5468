"""Issue 20: the order list's payment-method dropdown reads the methods in use by skipping
through the index (one probe per method), not with a DISTINCT over every order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, update

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor
from ordermill.testing import order_request
from ordermill.web.admin import lookups


def test_methods_in_use_and_registered_are_offered(mill: Ordermill, staff: Actor,
                                                   make_product: Callable[..., Any]) -> None:
    make_product("MUG", price=800, stock=None)
    numbers = []
    for method in ("cheque", "banktransfer", "cheque", "banktransfer"):
        result = mill.orders.place(order_request([("MUG", 1)], payment_method=method),
                                   actor=staff)
        assert result.order is not None
        numbers.append(result.order.number)
    with mill.write_session() as session, session.begin():  # a gateway since uninstalled
        session.execute(update(Order).where(Order.number == numbers[0])
                        .values(payment_method="old_gateway"))
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(mill.engine, "before_cursor_execute", note)
    try:
        names = [name for name, _label in lookups.payment_methods(mill)]
    finally:
        event.remove(mill.engine, "before_cursor_execute", note)
    assert names == sorted(set(mill.gateways) | {"old_gateway", "cheque", "banktransfer"})
    assert not any("DISTINCT" in statement.upper() for statement in statements)
    assert sum("min(" in statement.lower() for statement in statements) == 4  # 3 + the end
    assert ("old_gateway", "Old gateway") in lookups.payment_methods(mill)
