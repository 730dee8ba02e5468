"""Issue 20: the order search box uses indexes and finds exactly what the old scan found.

The old search was `lower(name) LIKE '%q%' OR lower(email) LIKE '%q%' OR number LIKE 'q%'`
over the whole table. Now a number prefix is a range on the unique column, and a substring
goes through pg_trgm (PostgreSQL) or an FTS5 trigram table kept by triggers (SQLite). Each
test compares with that scan, on both databases, also after the buyer is edited, the customer
erased and the order deleted (the index follows every writer in its own transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, or_, select, text

from ordermill.core import search
from ordermill.core.app import Ordermill
from ordermill.core.customers import erase_customer
from ordermill.core.models import Order
from ordermill.core.queries import OrderFilters, _filtered, search_orders
from ordermill.core.specs import Actor
from ordermill.testing import order_request

BUYERS = [("Alice Martin", "alice@example.com"), ("Bob O'Neill", "bob.oneill@shop.io"),
          ("Chloé Durand", "CHLOE@Example.FR"), ("Dan 100% Brown", "dan_b@example.com"),
          ('Eve "Q" Adams', "eve+tag@mail.test"), ("Zoë Ålander", "zoe@exämple.se"),
          ("Mary Alison", "mary@alison.net"), ("Ann 2024 Smith", "ann2024@example.com")]


def place(mill: Ordermill, staff: Actor, name: str, email: str) -> str:
    result = mill.orders.place(order_request([("MUG", 1)], name=name, email=email),
                               actor=staff)
    assert result.order is not None
    return result.order.number


@pytest.fixture
def placed(mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> dict[str, str]:
    make_product("MUG", price=800, stock=None)
    return {email: place(mill, staff, name, email) for name, email in BUYERS}


def found(mill: Ordermill, staff: Actor, q: str) -> set[str]:
    page = search_orders(mill, OrderFilters(q=q), actor=staff, per_page=200)
    assert page.total == len(page.items)
    return {order.number for order in page.items}


def scanned(mill: Ordermill, q: str) -> set[str]:
    """What the search found before issue 20: a LIKE scan of every order (a whole e-mail
    address or order number is now an exact match: see test_a_whole_address_is_an_exact_match
    and test_a_whole_number_is_an_exact_match)."""
    q = q.strip()
    if search.is_email(q):
        with mill.read_session() as session:
            return set(session.scalars(select(Order.number)
                                       .where(Order.buyer_email == q.lower())))
    if search.is_order_number(q):
        with mill.read_session() as session:
            return set(session.scalars(select(Order.number)
                                       .where(Order.number == q.lstrip("#"))))
    matches = [Order.buyer_name.icontains(q, autoescape=True),
               Order.buyer_email.icontains(q, autoescape=True)]
    digits = q.lstrip("#")
    if digits.isdigit() and len(digits) <= 10:
        matches.append(Order.number.startswith(digits, autoescape=True))
    with mill.read_session() as session:
        return set(session.scalars(select(Order.number).where(or_(*matches))))


def queries_for(numbers: dict[str, str]) -> list[str]:
    some = sorted(numbers.values())
    return ["alice", "ALI", "al", "a", "lis", "example.com", "alice@example.com",
            "ALICE@EXAMPLE.COM", "o'neill", "Chlo", "chloé", "CHLOÉ", "durand", "100%", "0%",
            "%", "_", "dan_", "n_b", '"Q"', '"', "+tag", "zoë", "ålander", "exämple",
            "2024", "#2024", "nobody-here", "xyz", some[0], some[0][:4], "#" + some[0][:6],
            some[-1][:3], some[0][:9], "9", "99", "999", "0000000000", "9999999999"]


def test_search_finds_what_the_scan_found(mill: Ordermill, staff: Actor,
                                          placed: dict[str, str]) -> None:
    for q in queries_for(placed):
        assert found(mill, staff, q) == scanned(mill, q), q
    assert found(mill, staff, "alice@example.com") == {placed["alice@example.com"]}
    assert found(mill, staff, placed["bob.oneill@shop.io"]) == {placed["bob.oneill@shop.io"]}
    assert found(mill, staff, "alison") == {placed["mary@alison.net"]}  # name and e-mail


def test_a_whole_address_is_an_exact_match(mill: Ordermill, staff: Actor,
                                           placed: dict[str, str]) -> None:
    joann = place(mill, staff, "Jo Ann", "joann@alison.net")
    assert found(mill, staff, "ANN@alison.net") == set()
    assert found(mill, staff, "mary@alison.net") == {placed["mary@alison.net"]}
    assert found(mill, staff, " Mary@Alison.NET ") == {placed["mary@alison.net"]}
    assert found(mill, staff, "ann@alison") == {joann}  # not a whole address: a substring
    assert found(mill, staff, "@alison.net") == {joann, placed["mary@alison.net"]}
    assert search.is_email("a@b.c") and not search.is_email("a@b")
    assert not search.is_email("@b.c") and not search.is_email("a b@c.d")
    assert not search.is_email("a@b@c.d") and not search.is_email("a@.")


def test_a_whole_number_is_an_exact_match(mill: Ordermill, staff: Actor,
                                          placed: dict[str, str]) -> None:
    """A 10-digit number finds that order by the unique column, not a name or e-mail that
    contains those digits (on SQLite their trigrams made it a 100 ms search at 100k)."""
    alice = placed["alice@example.com"]
    digits = place(mill, staff, f"Phone {alice}", f"{alice}@phone.test")
    assert found(mill, staff, alice) == {alice} == found(mill, staff, f"#{alice}")
    assert found(mill, staff, alice[:9]) == {alice, digits}  # a prefix: also a substring
    assert search.is_order_number("#0123456789") and not search.is_order_number("012345678")
    assert not search.is_order_number("01234567890") and not search.is_order_number("0123 56789")
    with mill.read_session() as session:
        connection = session.connection()
        statement = _filtered(mill, OrderFilters(q=alice)).with_only_columns(Order.id)
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if mill.is_sqlite:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}"))
            assert "(number=?)" in plan and "VIRTUAL TABLE" not in plan, plan
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert "uq_shop_order_number" in plan and "trgm" not in plan, plan


def test_search_follows_edits_erasure_and_deletion(mill: Ordermill, staff: Actor,
                                                   placed: dict[str, str]) -> None:
    alice = placed["alice@example.com"]
    mill.orders.edit_buyer(alice, {"name": "Alicia Keyes", "email": "keyes@piano.test"},
                           actor=staff)
    assert alice not in found(mill, staff, "martin")
    assert found(mill, staff, "keyes") == {alice}
    assert found(mill, staff, "piano.test") == {alice}
    assert found(mill, staff, "alice@example.com") == set() == scanned(mill, "alice@example")

    bob = placed["bob.oneill@shop.io"]
    customer_id = mill.orders.get(bob).customer_id
    report = erase_customer(mill, customer_id, actor=staff)
    assert found(mill, staff, "oneill") == set() == scanned(mill, "oneill")
    assert found(mill, staff, report["pseudonym"]) == {bob}

    chloe = placed["CHLOE@Example.FR"]
    mill.orders.delete(chloe, actor=staff, restock=False)
    assert found(mill, staff, "durand") == set()
    assert found(mill, staff, chloe) == set()
    for q in queries_for(placed):
        assert found(mill, staff, q) == scanned(mill, q), q
    assert_index_in_step(mill)


def test_a_dry_run_or_failed_edit_leaves_the_index_as_it_was(
        mill: Ordermill, staff: Actor, placed: dict[str, str]) -> None:
    eve = placed["eve+tag@mail.test"]
    mill.orders.edit_buyer(eve, {"name": "Evelyn Dry"}, actor=staff, dry_run=True)
    assert found(mill, staff, "evelyn") == set()
    assert found(mill, staff, "adams") == {eve}
    assert_index_in_step(mill)


def assert_index_in_step(mill: Ordermill) -> None:
    """SQLite: the FTS table holds exactly each order's name and e-mail."""
    if not mill.is_sqlite:
        return
    with mill.read_session() as session:
        indexed = set(session.execute(text(
            f"SELECT rowid, buyer_name, buyer_email FROM {search.SEARCH_TABLE}")).all())
        rows = set(session.execute(select(Order.id, Order.buyer_name, Order.buyer_email)).all())
    assert indexed == rows


def test_the_indexes_exist_and_the_planner_uses_them(mill: Ordermill, staff: Actor,
                                                     placed: dict[str, str]) -> None:
    with mill.read_session() as session:
        connection = session.connection()
        assert search.is_installed(connection)
        if not mill.is_sqlite:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table
        alice = placed["alice@example.com"]
        for q, index in (("example.com", "search"), (alice[:7], "number")):
            statement = _filtered(mill, OrderFilters(q=q)).with_only_columns(Order.id)
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            if mill.is_sqlite:
                plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled}"))
                assert "VIRTUAL TABLE INDEX" in plan, plan
            else:
                plan = " ".join(row[0] for row in connection.exec_driver_sql(
                    f"EXPLAIN {compiled}"))
                assert "ix_shop_order_search_email_trgm" in plan, plan
                assert "ix_shop_order_search_name_trgm" in plan, plan
            if index == "number":  # the unique number column's index, by a range
                assert ("(number>?" if mill.is_sqlite else "uq_shop_order_number") in plan, plan


def test_short_search_still_works_without_trigrams(mill: Ordermill, staff: Actor,
                                                   placed: dict[str, str]) -> None:
    assert len("al") < search.MIN_TRIGRAM
    assert found(mill, staff, "al") == scanned(mill, "al") != set()
    with mill.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == len(BUYERS)


def test_number_range() -> None:
    assert search.number_range("123") == ("123", "124")
    assert search.number_range("0099") == ("0099", "0100")
    assert search.number_range("199") == ("199", "200")
    assert search.number_range("999") == ("999", None)
    assert search.fts_phrase('a"b') == '"a""b"'


def test_upgrade_puts_back_search_triggers_a_batch_migration_dropped(
        tmp_path: Any, staff: Actor) -> None:
    """A later revision that recreates shop_order (SQLite batch mode) drops its triggers:
    `ordermill init` (upgrade_database) puts them back and refills the table."""
    from ordermill.core.plugins import PluginHost
    from ordermill.core.schema import upgrade_database
    from ordermill.testing import ordermill_settings

    settings = ordermill_settings(f"sqlite:///{tmp_path / 'repair.sqlite'}", tmp_path)
    fresh = Ordermill(settings, plugins=PluginHost(settings))
    try:
        upgrade_database(fresh)
        with fresh.engine.begin() as connection:
            assert search.is_installed(connection)
            for trigger in search.TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
            connection.exec_driver_sql(f"DELETE FROM {search.SEARCH_TABLE}")
            assert not search.is_installed(connection)
        upgrade_database(fresh)
        with fresh.engine.connect() as connection:
            assert search.is_installed(connection)
    finally:
        fresh.dispose()
