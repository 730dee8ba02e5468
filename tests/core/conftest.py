"""Helpers for the core service tests: read the database back and prove refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrderNotFound
from ordermill.core.models import Order, OrderEvent, OutboxJob, Payment, Product
from ordermill.core.specs import Actor


class Probe:
    """Reads what is really stored, bypassing anything the service keeps in memory."""

    def __init__(self, mill: Ordermill) -> None:
        self.mill = mill

    def stock(self, sku: str) -> int | None:
        with self.mill.read_session() as session:
            return session.scalar(select(Product.stock).where(Product.sku == sku))

    def stocks(self) -> dict[str, int | None]:
        with self.mill.read_session() as session:
            query = select(Product.sku, Product.stock)
            return {sku: stock for sku, stock in session.execute(query)}

    def order(self, number: str) -> Order:
        return self.mill.orders.get(number)

    def events(self, number: str) -> list[OrderEvent]:
        return self.mill.orders.history(number)

    def event_types(self, number: str) -> list[str]:
        return [event.type for event in self.events(number)]

    def count(self, model: type[Any]) -> int:
        with self.mill.read_session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def snapshot(self, number: str | None = None) -> dict[str, Any]:
        """Everything a refused action could have touched, as plain data."""
        state: dict[str, Any] = {
            "stock": self.stocks(),
            "orders": self.count(Order),
            "payments": self.count(Payment),
            "events": self.count(OrderEvent),
            "jobs": self.count(OutboxJob),
        }
        if number is not None:
            try:
                state["order"] = self.mill.orders.describe(number)
            except OrderNotFound:
                state["order"] = None
        return state

    def assert_unchanged(self, before: dict[str, Any], number: str | None = None) -> None:
        after = self.snapshot(number)
        assert after == before


@pytest.fixture
def probe(mill: Ordermill) -> Probe:
    return Probe(mill)


@pytest.fixture
def viewer() -> Actor:
    return Actor(kind="user", name="viewer@shop.test", role="viewer")


@pytest.fixture
def support() -> Actor:
    return Actor(kind="user", name="support@shop.test", role="support")
