"""The demo shop has a year of orders with confirmed and unconfirmed sales, so every report
and chart shows something real (issue 17); the sales come confirmed through the core hook
`on_demo_loaded`, which the sales_managers plugin implements."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.api import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor
from ordermill.demo.loading import load_demo
from ordermill.plugins.reports.chart import chart_of
from ordermill.plugins.reports.definitions import REPORTS, parse_filters
from ordermill.plugins.reports.service import run_report
from ordermill.plugins.sales_managers import SalesConfirmation

pytestmark = pytest.mark.slow  # loads the demo shop
STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    @hookimpl
    def on_demo_loaded(self, orders: Any, ctx: Any) -> None:
        mill = ctx.mill
        assert mill.orders.get(orders[0]).placed_at < mill.orders.get(orders[-1]).placed_at
        self.seen.append(tuple(orders))


def test_hook_on_demo_loaded_gives_a_year_of_sales_to_report(
    mill: Ordermill, register_plugin: Any,
) -> None:
    recorder = register_plugin(Recorder(), "recorder")
    summary = load_demo(mill)
    assert recorder.seen == [summary.orders]  # once, every order, oldest first
    with mill.read_session() as session:
        first, last = session.execute(select(func.min(Order.placed_at),
                                             func.max(Order.placed_at))).one()
        attributed = session.scalar(select(func.count()).where(
            Order.sales_manager_id.is_not(None)))
        confirmed = session.scalar(select(func.count()).select_from(SalesConfirmation))
    assert (last - first).days >= 330
    assert 0 < confirmed < attributed  # some confirmed (green), some left to check (red)
    for name in REPORTS:
        result = run_report(mill, name, parse_filters({}), actor=STAFF)
        assert len(result.rows) >= 2, name
        assert result.totals and result.totals[0]["currency"] == "EUR"
        chart = chart_of(result)
        assert chart is not None and len(chart.bars) == len(result.rows), name
    managers = run_report(mill, "managers", parse_filters({}), actor=STAFF)
    assert sum(row["orders"] for row in managers.rows) == confirmed
