"""Races on real databases: checkouts for the last units, and two admins on one order.

Each race starts its threads together on a threading.Barrier. Threads either share one
Ordermill (one engine, one connection pool: several web threads of one process) or each get
their own Ordermill and engine on the same database URL (several processes behind a load
balancer). PostgreSQL locks rows (conditional UPDATE, SELECT ... FOR UPDATE); SQLite takes
its single write lock up front (BEGIN IMMEDIATE). Both must give the same answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.errors import (
    ActionNotAllowed,
    IllegalTransition,
    OrderNotFound,
    OutOfStock,
    OverRefund,
    StaleOrder,
)
from ordermill.core.models import Order, OrderEvent, OrderLine, Payment, Product
from ordermill.core.plugins import PluginHost
from ordermill.core.specs import Actor
from ordermill.core.statuses import money_totals
from ordermill.testing import order_request

pytestmark = [pytest.mark.commits, pytest.mark.slow]  # threads with engines of their own race

THREADS = 8
JOIN_SECONDS = 120.0


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """Only the built-in restock plugin: other installed plugins (e-mail, fraud providers)
    would add jobs and outside calls that these tests of the core do not expect."""
    return {"load_plugins": ("restock",)}


@attrs.frozen
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def race(calls: Sequence[Callable[[], Any]], *, watch: Callable[[], None] | None = None
         ) -> list[Outcome]:
    """Run the calls in threads that start together; return each call's outcome in order.

    `watch`, when given, is called over and over from one more thread while the race runs
    (to sample the database mid-race); an assertion it raises fails the test.
    """
    barrier = threading.Barrier(len(calls) + (1 if watch else 0), timeout=JOIN_SECONDS)
    outcomes: list[Outcome | None] = [None] * len(calls)
    watch_errors: list[BaseException] = []
    done = threading.Event()

    def runner(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = Outcome(value=call())
        except BaseException as error:
            outcomes[index] = Outcome(error=error)

    def watcher() -> None:
        assert watch is not None
        try:
            barrier.wait()
            while not done.is_set():
                watch()
            watch()
        except BaseException as error:
            watch_errors.append(error)

    threads = [threading.Thread(target=runner, args=(i, call), daemon=True)
               for i, call in enumerate(calls)]
    watch_thread = threading.Thread(target=watcher, daemon=True) if watch else None
    for thread in threads:
        thread.start()
    if watch_thread is not None:
        watch_thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "a racing thread hung"
    done.set()
    if watch_thread is not None:
        watch_thread.join(JOIN_SECONDS)
    if watch_errors:
        raise watch_errors[0]
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def fresh_mill(mill: Ordermill) -> Ordermill:
    """Another Ordermill with its own engine on the same database, like another process."""
    settings = mill.settings
    return Ordermill(settings, plugins=PluginHost(settings),
                     engine=make_engine(settings.database_url))


@pytest.fixture(params=["shared", "separate"])
def mills(request: pytest.FixtureRequest, mill: Ordermill) -> Iterator[list[Ordermill]]:
    """THREADS mills: the same one for every thread, or one per thread with its own engine."""
    if request.param == "shared":
        yield [mill] * THREADS
        return
    own = [fresh_mill(mill) for _ in range(THREADS)]
    yield own
    for other in own:
        other.dispose()


def stock_of(mill: Ordermill, sku: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def errors_of(outcomes: Sequence[Outcome]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


def assert_only(outcomes: Sequence[Outcome], *allowed: type[BaseException]) -> None:
    for error in errors_of(outcomes):
        if not isinstance(error, allowed):
            raise AssertionError(f"unexpected {type(error).__name__}: {error}") from error


def never_negative(mill: Ordermill, *skus: str) -> Callable[[], None]:
    def check() -> None:
        with mill.read_session() as session:
            for sku, stock in session.execute(
                select(Product.sku, Product.stock).where(Product.sku.in_(skus))
            ):
                assert stock is None or stock >= 0, f"{sku} stock went negative: {stock}"

    return check


def buy(mill: Ordermill, actor: Actor, lines: list[tuple[str, int]], who: int) -> str:
    result = mill.orders.place(order_request(lines, email=f"buyer{who}@example.com",
                                             name=f"Buyer {who}"), actor=actor)
    assert result.order is not None
    return result.order.number


# ---------------------------------------------------------------------------- the last units


def test_eight_buyers_race_for_the_last_five_units(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("LAST", price=1500, stock=5)
    outcomes = race([lambda m=m, i=i: buy(m, staff, [("LAST", 1)], i)
                     for i, m in enumerate(mills)], watch=never_negative(mill, "LAST"))
    assert_only(outcomes, OutOfStock)
    winners = [o.value for o in outcomes if o.ok]
    assert len(winners) == 5
    assert len(errors_of(outcomes)) == THREADS - 5
    assert all("LAST" in str(error) for error in errors_of(outcomes))
    assert stock_of(mill, "LAST") == 0
    with mill.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 5
        assert session.scalar(select(func.sum(OrderLine.units_held))) == 5
        placed = session.scalar(select(func.count()).select_from(OrderEvent)
                                .where(OrderEvent.type == "placed"))
    assert placed == 5
    assert len(set(winners)) == 5


def test_buyers_of_several_units_never_oversell(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("PAIR", stock=7)
    outcomes = race([lambda m=m, i=i: buy(m, staff, [("PAIR", 2)], i)
                     for i, m in enumerate(mills)], watch=never_negative(mill, "PAIR"))
    assert_only(outcomes, OutOfStock)
    assert sum(o.ok for o in outcomes) == 3
    assert stock_of(mill, "PAIR") == 1


def test_a_failed_checkout_takes_none_of_its_other_products(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    """Two products in opposite line orders: the scarce one decides; no deadlock, no leak."""
    make_product("PLENTY", stock=6)
    make_product("SCARCE", stock=3)
    calls = []
    for i, m in enumerate(mills):
        lines = [("PLENTY", 1), ("SCARCE", 1)] if i % 2 else [("SCARCE", 1), ("PLENTY", 1)]
        calls.append(lambda m=m, i=i, lines=lines: buy(m, staff, lines, i))
    outcomes = race(calls, watch=never_negative(mill, "PLENTY", "SCARCE"))
    assert_only(outcomes, OutOfStock)
    assert sum(o.ok for o in outcomes) == 3
    assert stock_of(mill, "SCARCE") == 0
    assert stock_of(mill, "PLENTY") == 3


def test_rounds_of_buying_and_cancelling(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    """Each round 8 buyers race for what the previous round's cancellations put back."""
    make_product("ROUND", stock=5)
    for round_number in range(3):
        outcomes = race([lambda m=m, who=10 * round_number + i: buy(m, staff, [("ROUND", 1)], who)
                         for i, m in enumerate(mills)], watch=never_negative(mill, "ROUND"))
        assert_only(outcomes, OutOfStock)
        winners = [str(o.value) for o in outcomes if o.ok]
        assert len(winners) == 5, f"round {round_number}"
        assert stock_of(mill, "ROUND") == 0
        # give the units back, cancelling concurrently (and each order twice: once wins)
        cancels = [lambda m=m, n=n: m.orders.cancel(n, actor=staff, restock=True)
                   for m, n in zip(mills, winners + winners[:3], strict=True)]
        outcomes = race(cancels, watch=never_negative(mill, "ROUND"))
        assert_only(outcomes, IllegalTransition)
        assert sum(o.ok for o in outcomes) == 5
        assert stock_of(mill, "ROUND") == 5
    with mill.read_session() as session:
        held = session.scalar(select(func.sum(OrderLine.units_held - OrderLine.units_released)))
    assert held == 0


# ---------------------------------------------------------------------------- one order, two admins


def paid_order(mill: Ordermill, staff: Actor, sku: str, quantity: int = 2) -> str:
    number = buy(mill, staff, [(sku, quantity)], 0)
    mill.orders.mark_paid(number, actor=staff)
    return number


def events_of(mill: Ordermill, number: str) -> list[str]:
    return [event.type for event in mill.orders.history(number)]


def test_two_refunds_of_the_last_captured_money(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("GIFT", price=1500, stock=50)
    for _attempt in range(3):
        number = paid_order(mill, staff, "GIFT")  # 3000 captured
        outcomes = race([lambda m=m, n=number: m.orders.refund(n, actor=staff, amount=2000)
                         for m in mills[:2]])
        assert_only(outcomes, OverRefund)
        assert sum(o.ok for o in outcomes) == 1
        order = mill.orders.get(number)
        totals = money_totals(order)
        assert (totals.captured, totals.refunded) == (3000, 2000)
        assert events_of(mill, number).count("refunded") == 1


def test_many_whole_refunds_at_once_refund_once(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("GIFT", price=1500, stock=10)
    number = paid_order(mill, staff, "GIFT", quantity=3)
    outcomes = race([lambda m=m: m.orders.refund(number, actor=staff, restock=True)
                     for m in mills])
    assert_only(outcomes, OverRefund, IllegalTransition, ActionNotAllowed)
    assert sum(o.ok for o in outcomes) == 1
    order = mill.orders.get(number)
    totals = money_totals(order)
    assert totals.refunded == totals.captured == 4500
    assert order.status == "refunded"
    assert stock_of(mill, "GIFT") == 10  # restocked exactly once
    assert events_of(mill, number).count("refunded") == 1


def test_cancel_against_accept_with_the_same_version(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    """Two admins looked at the same version: one action lands, the other is a conflict."""
    make_product("SEAT", stock=20)
    for _attempt in range(3):
        number = buy(mill, staff, [("SEAT", 1)], 0)
        version = mill.orders.get(number).version
        outcomes = race([
            lambda n=number, v=version: mills[0].orders.accept(n, actor=staff,
                                                               expected_version=v),
            lambda n=number, v=version: mills[1].orders.cancel(n, actor=staff,
                                                               expected_version=v),
        ])
        assert_only(outcomes, StaleOrder)
        assert sum(o.ok for o in outcomes) == 1
        order = mill.orders.get(number)
        assert order.version == version + 1
        history = events_of(mill, number)
        assert len(history) == 2  # placed + the winner
        if outcomes[0].ok:
            assert order.status == "active" and history[-1] == "accepted"
            assert stock_of(mill, "SEAT") is not None
        else:
            assert order.status == "cancelled" and history[-1] == "cancelled"
    with mill.read_session() as session:
        held = session.scalar(select(func.sum(OrderLine.units_held - OrderLine.units_released)))
    assert stock_of(mill, "SEAT") == 20 - held


def test_cancel_against_accept_without_versions_stays_consistent(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    """Without versions both may land in turn (accept, then cancel), but never as a mix."""
    make_product("SEAT", stock=20)
    for _attempt in range(3):
        number = buy(mill, staff, [("SEAT", 1)], 0)
        outcomes = race([
            lambda n=number: mills[0].orders.accept(n, actor=staff),
            lambda n=number: mills[1].orders.cancel(n, actor=staff),
        ])
        assert_only(outcomes, IllegalTransition)
        assert outcomes[1].ok, "cancelling a pending or active order is always allowed"
        order = mill.orders.get(number)
        assert order.status == "cancelled"
        assert [line.status for line in order.lines] == ["cancelled"]
        history = events_of(mill, number)
        assert len(history) == 1 + sum(o.ok for o in outcomes)
        if outcomes[0].ok:
            assert history[1:] == ["accepted", "cancelled"]
        assert order.version == len(history)
    assert stock_of(mill, "SEAT") == 20


def test_racing_cancels_and_deletes_release_stock_once(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("BOX", stock=10)
    number = buy(mill, staff, [("BOX", 4)], 0)
    outcomes = race([lambda m=m: m.orders.cancel(number, actor=staff, restock=True)
                     for m in mills[:4]])
    assert_only(outcomes, IllegalTransition)
    assert sum(o.ok for o in outcomes) == 1
    assert stock_of(mill, "BOX") == 10
    outcomes = race([lambda m=m: m.orders.delete(number, actor=staff, restock=True)
                     for m in mills[4:]])
    assert_only(outcomes, OrderNotFound)
    assert sum(o.ok for o in outcomes) == 1
    assert stock_of(mill, "BOX") == 10
    assert events_of(mill, number) == ["placed", "cancelled", "deleted"]


def test_many_mark_paid_at_once_record_one_payment(
    mill: Ordermill, mills: list[Ordermill], make_product: Callable[..., Product], staff: Actor
) -> None:
    make_product("BOOK", price=2500, stock=5)
    number = buy(mill, staff, [("BOOK", 1)], 0)
    outcomes = race([lambda m=m: m.orders.mark_paid(number, actor=staff) for m in mills])
    assert_only(outcomes, ActionNotAllowed)
    assert sum(o.ok for o in outcomes) == 1
    with mill.read_session() as session:
        payments = session.scalars(select(Payment).join(Order)
                                   .where(Order.number == number)).all()
    assert [(p.kind, p.amount) for p in payments] == [("charge", 2500)]
    assert events_of(mill, number) == ["placed", "payment"]
