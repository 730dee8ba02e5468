"""Random sequences of stock adjustments, placements, cancels, refunds (with and without
restock) and deletes keep every tracked product's stock equal to the sum of its ledger, and
never negative (hypothesis stateful testing, SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from catkit import actor_of, assert_ledger_balances
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.models import Base
from ordermill.testing import in_ci, order_request

ADMIN = actor_of("admin")
SKUS = ("APPLE", "BOOK", "HOSTING")
MACHINE_SETTINGS = settings(max_examples=15, stateful_step_count=15, deadline=None,
                            derandomize=in_ci(), print_blob=True,
                            suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"load_plugins": ("restock",)}


class LedgerMachine(RuleBasedStateMachine):
    mill: Ordermill

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[str] = []

    @initialize()
    def fresh_shop(self) -> None:
        with self.mill.write_session() as session, session.begin():
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        products = self.mill.catalogue.products
        products.create({"sku": "APPLE", "name": "Apple", "price": "1.00", "stock": 6},
                        actor=ADMIN)
        products.create({"sku": "BOOK", "name": "Book", "price": "9.50", "stock": 3},
                        actor=ADMIN)
        products.create({"sku": "HOSTING", "name": "Hosting", "price": "5.00",
                         "kind": "service", "stock": None}, actor=ADMIN)

    def attempt(self, call: Any) -> Any:
        try:
            return call()
        except OrdermillError:
            return None

    @rule(sku=st.sampled_from(SKUS[:2]), change=st.integers(-8, 8),
          reason=st.sampled_from(["received", "counted", "damaged"]))
    def adjust(self, sku: str, change: int, reason: str) -> None:
        if change:
            self.attempt(lambda: self.mill.catalogue.products.adjust_stock(
                sku, change=change, reason=reason, actor=ADMIN))

    @rule(sku=st.sampled_from(SKUS[:2]), count=st.integers(0, 9))
    def count(self, sku: str, count: int) -> None:
        self.mill.catalogue.products.adjust_stock(sku, count=count, actor=ADMIN)

    @rule(lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), min_size=1,
                         max_size=3, unique_by=lambda line: line[0]))
    def place(self, lines: list[tuple[str, int]]) -> None:
        result = self.attempt(lambda: self.mill.orders.place(order_request(lines),
                                                             actor=ADMIN))
        if result is not None:
            self.numbers.append(result.order.number)

    @rule(data=st.data(), restock=st.booleans())
    def cancel(self, data: st.DataObject, restock: bool) -> None:
        if self.numbers:
            number = data.draw(st.sampled_from(self.numbers))
            self.attempt(lambda: self.mill.orders.cancel(number, actor=ADMIN,
                                                         restock=restock))

    @rule(data=st.data(), restock=st.booleans())
    def pay_and_refund(self, data: st.DataObject, restock: bool) -> None:
        if self.numbers:
            number = data.draw(st.sampled_from(self.numbers))
            self.attempt(lambda: self.mill.orders.mark_paid(number, actor=ADMIN))
            self.attempt(lambda: self.mill.orders.refund(number, actor=ADMIN,
                                                         restock=restock))

    @rule(data=st.data(), restock=st.booleans())
    def delete(self, data: st.DataObject, restock: bool) -> None:
        if self.numbers:
            number = data.draw(st.sampled_from(self.numbers))
            if self.attempt(lambda: self.mill.orders.delete(number, actor=ADMIN,
                                                            restock=restock)) is not None:
                self.numbers.remove(number)

    @invariant()
    def stock_is_the_sum_of_the_ledger(self) -> None:
        assert_ledger_balances(self.mill)


@pytest.mark.timeout(600)
@pytest.mark.slow
def test_random_stock_sequences_keep_the_ledger(mill: Ordermill) -> None:
    machine = type("LedgerOn" + mill.engine.dialect.name.title(), (LedgerMachine,),
                   {"mill": mill})
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
