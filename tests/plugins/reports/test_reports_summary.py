"""The summary tables stay equal to the live computation (issue 17's speed target).

Reports read the plugin's summary tables (`facts`), kept in step inside every write
transaction. Property: after any sequence of placements, payments (with fees, partial),
refunds (by line, by amount), cancellations, deletions, confirmations and refused actions,
every report under every filter set equals the live query over the orders (`exact=True`,
the reference), on SQLite and PostgreSQL; `ordermill report rebuild` changes nothing then.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor
from ordermill.core.staff import create_user
from ordermill.plugins.reports import facts
from ordermill.plugins.reports.definitions import REPORTS, parse_filters
from ordermill.plugins.reports.service import rebuild_summary, run_report
from ordermill.plugins.sales_managers.confirming import confirm_sale
from ordermill.testing import order_request

STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)
GATEWAYS = ("banktransfer", "cheque", "invoice")
SKUS = {"MUG": "EUR", "TEE": "EUR", "HOST": "EUR", "CAP": "USD"}


def _filter_sets() -> list[dict[str, str]]:
    today = dt.datetime.now(dt.UTC).date()
    return [{}, {"from": today.isoformat(), "to": today.isoformat()},
            {"to": (today - dt.timedelta(days=1)).isoformat()}, {"currency": "EUR"},
            {"currency": "USD"}, {"gateway": "cheque"}, {"gateway": "invoice", "currency": "EUR"}]


def _assert_summary_equals_live(mill: Ordermill, step: str) -> None:
    for name in REPORTS:
        for values in _filter_sets():
            filters = parse_filters(values)
            fast = run_report(mill, name, filters, actor=STAFF).rows
            live = run_report(mill, name, filters, actor=STAFF, exact=True).rows
            assert fast == live, (step, name, values)


def _table(mill: Ordermill, table: sa.Table, key: str) -> list[tuple[Any, ...]]:
    with mill.read_session() as session:
        rows = session.execute(sa.select(table).order_by(table.c[key])).all()
    return [tuple(row)[1:] if key == "payment_id" else tuple(row) for row in rows]


def _snapshot(mill: Ordermill) -> tuple[list[Any], list[Any]]:
    lines = _table(mill, facts.LINES, "line_id")
    money = sorted(_table(mill, facts.MONEY, "payment_id"), key=repr)
    return lines, money


def _random_step(mill: Ordermill, rnd: random.Random, numbers: list[str],
                 managers: list[int | None], confirmer: Actor) -> str:
    """One random action; refused ones (an illegal refund...) must change nothing."""
    action = rnd.choice(["place", "place", "pay", "pay", "part", "refund_line",
                         "refund_amount", "cancel", "confirm", "delete", "add"])
    if action == "place" or not numbers:
        currency = rnd.choice(["EUR", "USD"])
        skus = [sku for sku, cur in SKUS.items() if cur == currency]
        lines = [(rnd.choice(skus), rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))]
        placed = mill.orders.place(order_request(
            lines, payment_method=rnd.choice(GATEWAYS),
            sales_manager_id=rnd.choice(managers)), actor=STAFF)
        assert placed.order is not None
        numbers.append(placed.order.number)
        return f"place {lines}"
    number = rnd.choice(numbers)
    try:
        if action == "pay":
            mill.orders.record_payment(number, actor=STAFF, amount=None,
                                       fee=rnd.choice([0, 7, 31, 150]))
        elif action == "part":
            mill.orders.record_payment(number, actor=STAFF, amount=rnd.choice([500, 1000]),
                                       fee=rnd.choice([0, 13]))
        elif action == "refund_line":
            order = mill.orders.get(number)
            line = rnd.choice(order.lines)
            mill.orders.refund(number, actor=STAFF, line_ids=[line.id])
        elif action == "refund_amount":
            mill.orders.refund(number, actor=STAFF, amount=rnd.choice([100, 250]))
        elif action == "cancel":
            mill.orders.cancel(number, actor=STAFF)
        elif action == "confirm":
            confirm_sale(mill, number, actor=confirmer)
        elif action == "delete":
            mill.orders.delete(number, actor=STAFF, restock=True)
            numbers.remove(number)
        elif action == "add":
            currency = mill.orders.get(number).currency
            sku = rnd.choice([sku for sku, cur in SKUS.items() if cur == currency])
            mill.orders.add_lines(number, order_request([(sku, 1)]).lines, actor=STAFF)
    except OrdermillError as refused:
        return f"{action} {number} refused: {type(refused).__name__}"
    return f"{action} {number}"


@pytest.fixture
def catalogue(mill: Ordermill, make_product: Callable[..., Product]) -> tuple[list[int | None],
                                                                             Actor]:
    make_product("MUG", name="Mug", price=1000, stock=500, category="kitchen")
    make_product("TEE", name="T-shirt", price=2000, stock=500, category="apparel")
    make_product("HOST", name="Hosting", price=5000, stock=500, category=None)
    make_product("CAP", name="Cap", price=1500, currency="USD", stock=500, category="apparel")
    anna = create_user(mill, email="anna@shop.test", name="Anna Berg", role="manager",
                       password="correct horse battery")
    ben = create_user(mill, email="ben@shop.test", name="Ben Kowalski", role="manager",
                      password="correct horse battery")
    confirmer = Actor(kind="user", name="anna@shop.test", role="manager", user_id=anna.id)
    return [anna.id, ben.id, None], confirmer


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_reports_equal_the_live_ones_after_random_actions(
        mill: Ordermill, catalogue: tuple[list[int | None], Actor], seed: int) -> None:
    managers, confirmer = catalogue
    rnd = random.Random(seed)
    numbers: list[str] = []
    steps = []
    for index in range(40):
        steps.append(_random_step(mill, rnd, numbers, managers, confirmer))
        if index % 8 == 7:
            _assert_summary_equals_live(mill, " / ".join(steps))
    _assert_summary_equals_live(mill, " / ".join(steps))
    done = {step.split()[0] for step in steps if "refused" not in step}
    assert {"place", "pay", "refund_line", "cancel", "confirm"} <= done, steps
    kept = _snapshot(mill)
    assert kept[0] and kept[1]  # the shop sold something: the comparison meant something
    counts = rebuild_summary(mill, actor=STAFF)
    assert counts == {"report_line": len(kept[0]), "report_money": len(kept[1])}
    assert _snapshot(mill) == kept


def test_changes_made_by_statement_and_dry_runs_keep_the_summary_right(
        mill: Ordermill, catalogue: tuple[list[int | None], Actor]) -> None:
    """An UPDATE run through a session (no objects loaded) is followed too, a dry run
    (rolled back) leaves the summary as it was, and a payment's tax share is whole minor
    units on both databases."""
    managers, _confirmer = catalogue
    placed = mill.orders.place(order_request([("MUG", 2), ("TEE", 1)], payment_method="cheque",
                                             sales_manager_id=managers[0]), actor=STAFF)
    assert placed.order is not None
    number = placed.order.number
    mill.orders.record_payment(number, actor=STAFF, amount=None, fee=40)
    mill.orders.refund(number, actor=STAFF, amount=1000)
    before = _snapshot(mill)
    mill.orders.cancel(number, actor=STAFF, dry_run=True)
    assert _snapshot(mill) == before
    last_year = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    with mill.write_session() as session, session.begin():
        session.execute(sa.update(Order).where(Order.number == number)
                        .values(paid_at=last_year, payment_method="invoice",
                                tax_total=777))  # a payment's share: 1000 * 777 / 4000
    _assert_summary_equals_live(mill, "update by statement")
    payments = run_report(mill, "payments", parse_filters({}), actor=STAFF).rows
    assert [(row["gross"], row["tax"], row["refunds"]) for row in payments] == [
        (4000 - 777, 777 - 194, 1000 - 194)]  # whole minor units, rounded down
    june = parse_filters({"from": "2025-06-01", "to": "2025-06-30", "gateway": "invoice"})
    rows = run_report(mill, "products", june, actor=STAFF).rows
    assert [(row["sku"], row["units"]) for row in rows] == [("MUG", 2), ("TEE", 1)]


def test_an_order_only_change_written_without_a_flush_keeps_the_summary_right(
        mill: Ordermill, catalogue: tuple[list[int | None], Actor]) -> None:
    """An action whose only change is the order's row writes it with one UPDATE, which no
    flush listener sees: the plugin follows it through `order_updated`."""
    managers, _confirmer = catalogue
    placed = mill.orders.place(order_request([("MUG", 1)], payment_method="cheque",
                                             sales_manager_id=managers[0]), actor=STAFF)
    assert placed.order is not None
    number = placed.order.number
    mill.orders.record_payment(number, actor=STAFF, amount=None)
    with mill.orders.editing(number, actor=STAFF, action="reassign") as (order, _ctx):
        order.sales_manager_id = managers[1]  # nothing else changes: the Core UPDATE path
    assert mill.orders.get(number).sales_manager_id == managers[1]
    with mill.read_session() as session:
        assert set(session.scalars(sa.select(facts.MONEY.c.manager_id).where(
            facts.MONEY.c.order_id == placed.order.id))) == {managers[1]}  # order, payment
    _assert_summary_equals_live(mill, "order-only change")
