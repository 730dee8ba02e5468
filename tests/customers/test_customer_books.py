"""The books still hold with customers merged and erased in the middle of random order
actions: the hypothesis state machine of tests/core/test_properties.py, with three more
rules (a second buyer places orders, the two customers merge, the latest customer is
erased). Its invariants are unchanged: stock is conserved, money never over-refunded,
payments and invoices never erased or altered, derived statuses agree with the rows, one
event per order per successful action with the version moving, and a refused action
(erasing twice, merging a customer into itself) changes no row at all."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.customers import erase_customer, merge_customers
from ordermill.core.models import Customer
from ordermill.core.specs import Actor
from ordermill.testing import order_request

_SOURCE = Path(__file__).resolve().parents[1] / "core" / "test_properties.py"
_spec = importlib.util.spec_from_file_location("order_books_properties", _SOURCE)
assert _spec is not None and _spec.loader is not None
properties = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(properties)


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """As the core's state machine: only the built-in restock plugin."""
    return {"load_plugins": ("restock",)}


DONE: Counter[str] = Counter()  # successful merges and erasures over every example


class CustomerBooks(properties.OrderBooks):  # type: ignore[misc,name-defined]
    def customer_ids(self) -> list[int]:
        return sorted(row.id for row in self.state["customer"])

    def orders_of(self, customer_id: int) -> list[str]:
        return [o.number for o in self.state["shop_order"] if o.customer_id == customer_id]

    @precondition(lambda self: len(self.live()) < properties.MAX_LIVE_ORDERS)
    @rule(lines=properties.line_lists)
    def place_as_another_buyer(self, lines: list[tuple[str, int]]) -> None:
        request = order_request(lines, email="other@example.com", name="Olga Other")
        result = self.attempt("place (other buyer)",
                              lambda: self.mill.orders.place(request, actor=self.actor))
        if result is not None:
            self.numbers.append(str(result.order.number))
            self.succeeded(str(result.order.number))

    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        """Merge two customers; when fewer than two are left unerased, a new buyer places
        an order first (so merges really happen, not only their refusals)."""
        erased = {row.customer_id for row in self.state["customer_erasure"]}
        ids = [i for i in self.customer_ids() if i not in erased]
        if len(ids) < 2 and len(self.live()) < properties.MAX_LIVE_ORDERS and ids:
            request = order_request([("HOSTING", 1)],  # unlimited: never out of stock
                                    email=f"new{len(self.numbers)}@example.com")
            number = str(self.mill.orders.place(request, actor=self.actor).order.number)
            self.numbers.append(number)
            self.succeeded(number)
            with self.mill.read_session() as session:
                newest = session.scalar(select(func.max(Customer.id)))
            merge_customers(self.mill, ids[0], newest, actor=self.actor)
            self.succeeded(number)
            DONE["merge"] += 1
            return
        if not ids:
            return
        keep = data.draw(st.sampled_from(ids), label="keep")
        others = [i for i in ids if i != keep]
        itself = not others or data.draw(st.integers(0, 5), label="itself?") == 0
        gone = keep if itself else data.draw(st.sampled_from(others), label="merge in")
        moved = self.orders_of(gone)
        if self.attempt("merge", lambda: merge_customers(self.mill, keep, gone,
                                                         actor=self.actor)) is not None:
            DONE["merge"] += 1
            for number in moved:
                self.succeeded(number)

    @rule(data=st.data())
    def erase(self, data: st.DataObject) -> None:
        ids = self.customer_ids()
        if not ids:
            return
        erased = {row.customer_id for row in self.state["customer_erasure"]}
        fresh = [i for i in ids if i not in erased]
        again = not fresh or data.draw(st.integers(0, 5), label="erased one?") == 0
        target = data.draw(st.sampled_from(sorted(erased) if again and erased else fresh or ids),
                           label="erase")  # an erased one: refused, nothing changes
        touched = self.orders_of(target)
        if self.attempt("erase", lambda: erase_customer(self.mill, target,
                                                        actor=self.actor)) is not None:
            DONE["erase"] += 1
            for number in touched:
                self.succeeded(number)


@pytest.mark.timeout(600)
@pytest.mark.slow
def test_merges_and_erasures_keep_the_books(mill: Ordermill, staff: Actor) -> None:
    DONE.clear()
    machine = type("CustomerBooksOn" + mill.engine.dialect.name.title(), (CustomerBooks,),
                   {"mill": mill, "actor": staff})
    run_state_machine_as_test(machine, settings=settings(properties.MACHINE_SETTINGS,
                                                         max_examples=15))
    # the new rules really ran, not only their refusals
    assert DONE["merge"] > 0 and DONE["erase"] > 0, DONE
