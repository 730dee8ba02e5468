"""The reports plugin's own hook, `confirmed_sales_condition` (docs/hooks.md, "Hooks defined
by plugins"): any plugin may say which sales are confirmed; without an answer the report by
sales manager is not offered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.api import Order, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import NotFound
from ordermill.core.models import Product
from ordermill.core.specs import Actor
from ordermill.plugins.reports.definitions import parse_filters
from ordermill.plugins.reports.service import available, run_report

STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


class BigOrdersAreConfirmed:
    """Counts every order of 20.00 or more as a confirmed sale."""

    @hookimpl(optionalhook=True)
    def confirmed_sales_condition(self, order_id: Any) -> Any:
        return Order.total >= 2000


@pytest.mark.ordermill_plugins("reports", "payment_banktransfer", builtins=False)
def test_hook_confirmed_sales_condition(
    mill: Ordermill, register_plugin: Callable[..., object],
    make_product: Callable[..., Product], order_factory: Callable[..., Order],
) -> None:
    make_product("MUG", price=1000, stock=20)
    order_factory([("MUG", 1)], paid=True)
    order_factory([("MUG", 3)], paid=True)
    assert [report.name for report in available(mill)] == ["payments", "products",
                                                           "categories"]
    with pytest.raises(NotFound, match="needs a plugin that confirms sales"):
        run_report(mill, "managers", parse_filters({}), actor=STAFF)

    register_plugin(BigOrdersAreConfirmed(), "big-orders")
    assert "managers" in [report.name for report in available(mill)]
    result = run_report(mill, "managers", parse_filters({}), actor=STAFF)
    assert [(row["manager"], row["orders"], row["gross"]) for row in result.rows] == [
        ("system", 1, 3000)]
