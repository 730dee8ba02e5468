"""Issue 20: the stored `Order.payment_status` the order list filters on by an index.

It is derived data (statuses.payment_status), stored once and kept by every action in its
own transaction: placement, payments, refunds, cancellations, added lines and a plugin's
own action (`mill.orders.editing`, e.g. a renewal invoice). The random action sequences of
test_properties.py compare it with the derivation after every step; here each path is
named, the filter is checked against the derivation, the migration's filling is checked,
and the planner is shown to use the index. Both databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text, update

from ordermill.core import payment_state
from ordermill.core.app import Ordermill
from ordermill.core.billing import add_renewal_invoice
from ordermill.core.models import Order
from ordermill.core.queries import PAYMENT_STATUSES, OrderFilters, _filtered, search_orders
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.core.statuses import payment_status
from ordermill.testing import order_request

INDEX = "ix_shop_order_payment_status_placed_at"


@pytest.fixture
def shop(make_product: Callable[..., Any]) -> None:
    make_product("MUG", price=1000, stock=None)
    make_product("FREE", price=0, stock=None)


def stored(mill: Ordermill, number: str) -> str:
    with mill.read_session() as session:
        value = session.scalar(select(Order.payment_status).where(Order.number == number))
    assert value is not None
    return value


def check(mill: Ordermill, number: str, expected: str) -> None:
    """Stored == derived == expected, and the filter finds the order under it alone."""
    assert payment_status(mill.orders.get(number)) == expected
    assert stored(mill, number) == expected
    for status in PAYMENT_STATUSES:
        page = search_orders(mill, OrderFilters(payment_statuses=(status,)),
                             actor=_staff(), per_page=200)
        assert (number in {o.number for o in page.items}) == (status == expected), status


def _staff() -> Actor:
    return Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


def place(mill: Ordermill, staff: Actor, sku: str = "MUG", quantity: int = 2) -> str:
    result = mill.orders.place(order_request([(sku, quantity)]), actor=staff)
    assert result.order is not None
    return result.order.number


def test_stored_status_follows_every_money_action(mill: Ordermill, staff: Actor,
                                                  shop: None) -> None:
    number = place(mill, staff)
    check(mill, number, "unpaid")
    mill.orders.record_payment(number, actor=staff, amount=500)
    check(mill, number, "partially_paid")
    mill.orders.mark_paid(number, actor=staff)
    check(mill, number, "paid")
    mill.orders.refund(number, actor=staff, amount=300)
    check(mill, number, "partially_refunded")
    mill.orders.refund(number, actor=staff)
    check(mill, number, "refunded")
    free = place(mill, staff, "FREE", 1)
    check(mill, free, "paid")  # nothing to pay
    other = place(mill, staff)
    mill.orders.mark_paid(other, actor=staff)
    mill.orders.add_lines(other, [LineRequest("MUG", 1)], actor=staff)
    check(mill, other, "partially_paid")  # added products are owed


def test_a_bulk_status_change_keeps_it(mill: Ordermill, staff: Actor, shop: None) -> None:
    """Found by the random sequences: cancelling a part-paid order in bulk makes it "paid"
    (nothing is owed for cancelled lines); the bulk path must store that too."""
    number = place(mill, staff)
    mill.orders.record_payment(number, actor=staff, amount=500)
    check(mill, number, "partially_paid")
    result = mill.orders.bulk_set_status([number], "cancelled", actor=staff)
    assert result.changed == (number,)
    check(mill, number, "paid")


def test_a_dry_run_leaves_it_and_a_plugin_action_keeps_it(mill: Ordermill, staff: Actor,
                                                          shop: None) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff, dry_run=True)
    check(mill, number, "unpaid")
    mill.orders.mark_paid(number, actor=staff)
    check(mill, number, "paid")
    with mill.orders.editing(number, actor=staff, action="renew") as (order, ctx):
        add_renewal_invoice(order, 700, "Next month")
        ctx.record_event(order, "renewed", "Renewal billed.")
    check(mill, number, "partially_paid")  # the renewal is owed: money is due again


def test_refresh_fills_what_is_wrong_and_mismatches_finds_it(mill: Ordermill, staff: Actor,
                                                             shop: None) -> None:
    """The migration's filling: computed by the derivation, only wrong rows written."""
    unpaid, paid = place(mill, staff), place(mill, staff)
    mill.orders.mark_paid(paid, actor=staff)
    with mill.write_session() as session, session.begin():
        connection = session.connection()
        assert payment_state.mismatches(connection) == []
        connection.execute(update(Order).where(Order.number == paid)
                           .values(payment_status="unpaid"))
        wrong = payment_state.mismatches(connection)
        assert [(row[1], row[2]) for row in wrong] == [("unpaid", "paid")]
        assert payment_state.refresh(connection) == 1
        assert payment_state.mismatches(connection) == []
        assert payment_state.refresh(connection) == 0
    check(mill, paid, "paid")
    check(mill, unpaid, "unpaid")


def test_init_fills_the_statuses_the_migration_left_blank(mill: Ordermill, staff: Actor,
                                                         shop: None) -> None:
    """The migration adds the column as "" for existing orders; `ordermill init` (after the
    upgrade) computes them, and does nothing more once none is blank."""
    unpaid, paid = place(mill, staff), place(mill, staff)
    mill.orders.mark_paid(paid, actor=staff)
    with mill.write_session() as session, session.begin():
        connection = session.connection()
        assert payment_state.fill_blank(connection) == 0
        connection.execute(update(Order).values(payment_status=""))
        assert payment_state.fill_blank(connection) == 2
        assert payment_state.fill_blank(connection) == 0
    check(mill, paid, "paid")
    check(mill, unpaid, "unpaid")


def test_the_filter_pages_from_the_index(mill: Ordermill, staff: Actor, shop: None) -> None:
    for _ in range(3):
        place(mill, staff)
    for wanted in (("paid",), ("paid", "partially_paid")):
        with mill.read_session() as session:
            connection = session.connection()
            statement = _filtered(mill, OrderFilters(payment_statuses=wanted)) \
                .with_only_columns(Order.id) \
                .order_by(Order.placed_at.desc(), Order.id.desc()).limit(50)
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            if mill.is_sqlite:
                plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled}"))
            else:
                # statistics of these rows, not whatever autovacuum last saw (with none, the
                # planner sometimes walked the placed_at index and filtered)
                connection.execute(text("ANALYZE shop_order"))
                connection.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table
                # and no bitmap scan (unordered by nature, picked or not by the statistics of
                # the moment): if the index gives the rows in order, no Sort is needed
                connection.execute(text("SET LOCAL enable_bitmapscan = off"))
                plan = " ".join(row[0] for row in connection.exec_driver_sql(
                    f"EXPLAIN {compiled}"))
            assert INDEX in plan, plan
            rest = plan.replace(INDEX, "").replace("payment_status", "")
            assert not re.search(r"\bpayment\b", rest), plan  # no sum over payments
            if len(wanted) == 1:  # one status: newest first straight from the index
                assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
