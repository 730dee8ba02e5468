"""Issue 15 acceptance 3: concurrent placements (and refunds) on PostgreSQL and SQLite give
invoice and credit note numbers with no gap and no duplicate.

Each race starts 8 threads together on a barrier, with one shared Ordermill (threads of one
web process) or one Ordermill and engine each (processes behind a load balancer). A fraud
provider that takes a moment makes the placements overlap: the number is drawn after it, as
the transaction's last step, from the counter row (never MAX()+1).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.invoice_models import CreditNote, DocumentCounter
from ordermill.core.models import Invoice
from ordermill.core.plugins import PluginHost
from ordermill.core.specs import Actor, FraudResult
from ordermill.testing import order_request

pytestmark = [pytest.mark.commits, pytest.mark.slow]

THREADS = 8
JOIN_SECONDS = 120.0
YEAR = dt.datetime.now(dt.UTC).year


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"load_plugins": ("restock",)}


class SlowFraudCheck:
    """A provider that answers after a moment, so that the placements overlap."""

    @hookimpl
    def fraud_check(self, order: Any, ctx: Any) -> FraudResult:
        time.sleep(0.05)
        return FraudResult(provider="slow", score=Decimal("1"))


def race(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the calls together in threads; return their results (an error fails the test)."""
    barrier = threading.Barrier(len(calls), timeout=JOIN_SECONDS)
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def runner(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i, call), daemon=True)
               for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "a racing thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.fixture(params=["shared", "separate"])
def mills(request: pytest.FixtureRequest, mill: Ordermill, register_plugin: Any
          ) -> Iterator[list[Ordermill]]:
    register_plugin(SlowFraudCheck(), name="slow")
    if request.param == "shared":
        yield [mill] * THREADS
        return
    own = []
    for _ in range(THREADS):
        settings = mill.settings
        other = Ordermill(settings, plugins=PluginHost(settings),
                          engine=make_engine(settings.database_url))
        other.plugins.register(SlowFraudCheck(), "slow", source="test")
        other.refresh()
        own.append(other)
    yield own
    for other in own:
        other.dispose()


def serials(numbers: Sequence[str | None], series: str) -> list[int]:
    prefix = f"{series}-{YEAR}-"
    assert all(number and number.startswith(prefix) for number in numbers), numbers
    return sorted(int(str(number)[len(prefix):]) for number in numbers)


def test_concurrent_placements_number_invoices_without_gap_or_duplicate(
        mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Any],
        staff: Actor) -> None:
    make_product("SEAT", price=3000, stock=100)

    def place(m: Ordermill, who: int) -> str:
        result = m.orders.place(order_request([("SEAT", 1)], email=f"b{who}@example.com"),
                                actor=staff)
        assert result.order is not None
        return result.order.number

    numbers = race([lambda m=m, i=i: place(m, i) for i, m in enumerate(mills)])
    assert len(set(numbers)) == THREADS
    with mill.read_session() as session:
        invoices = list(session.scalars(select(Invoice)))
        counter = session.get(DocumentCounter, ("INV", YEAR))
    assert len(invoices) == THREADS
    assert serials([invoice.number for invoice in invoices], "INV") == list(
        range(1, THREADS + 1))
    assert counter is not None and counter.last_value == THREADS
    assert all(invoice.snapshot and invoice.snapshot["number"] == invoice.number
               for invoice in invoices)


def test_concurrent_refunds_number_credit_notes_without_gap_or_duplicate(
        mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Any],
        order_factory: Callable[..., Any], staff: Actor) -> None:
    make_product("SEAT", price=3000, stock=100)
    orders = [order_factory([("SEAT", 1)], paid=True).number for _ in range(THREADS)]
    race([lambda m=m, n=n: m.orders.refund(n, actor=staff, amount=1000)
          for m, n in zip(mills, orders, strict=True)])
    with mill.read_session() as session:
        notes = list(session.scalars(select(CreditNote)))
    assert sorted(note.order_number for note in notes) == sorted(orders)
    assert serials([note.number for note in notes], "CN") == list(range(1, THREADS + 1))
