"""core.hot_sql: fixed statements on the driver's cursor give what `Connection.execute`
gives, are heard by statement listeners, and fail as SQLAlchemy's statements fail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from ordermill.core.app import Ordermill
from ordermill.core.hot_sql import HotStatement
from ordermill.core.models import Order, OrderLine, Product, Setting
from ordermill.core.specs import Actor

ORDERS, LINES, PRODUCTS = Order.__table__, OrderLine.__table__, Product.__table__


def _joined() -> Any:
    """An order's every column with its lines' (dates, JSON, numeric and money columns)."""
    return (select(*ORDERS.c, *LINES.c)
            .select_from(ORDERS.join(LINES, LINES.c.order_id == ORDERS.c.id))
            .where(ORDERS.c.number == bindparam("number")).order_by(LINES.c.id))


def test_rows_are_what_connection_execute_gives(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Any], staff: Actor) -> None:
    make_product("TSHIRT", price=1250, stock=None)
    make_product("MUG", price=800, stock=None)
    order = order_factory([("TSHIRT", 2), ("MUG", 1)], paid=True, accepted=True)
    with mill.write_session() as session, session.begin():
        session.execute(update(Order).where(Order.id == order.id)
                        .values(fraud_score=Decimal("12.34")))
    statement = HotStatement(_joined())
    with mill.write_session() as session, session.begin():
        connection = session.connection()
        expected = [tuple(row) for row in connection.execute(_joined(),
                                                             {"number": order.number})]
        for _time in range(2):  # compiled at the first run, kept for the second
            got = statement.rows(connection, {"number": order.number})
            assert got == expected
            assert [[type(value) for value in row] for row in got] == [
                [type(value) for value in row] for row in expected]
        placed_at = got[0][list(ORDERS.c.keys()).index("placed_at")]
        assert isinstance(placed_at, dt.datetime) and placed_at.tzinfo is not None
        assert Decimal("12.34") in got[0]
        width = len(ORDERS.c)
        raw = statement.raw_rows(connection, {"number": order.number})
        assert [statement.columns(connection.dialect, row, width) for row in raw] == [
            row[width:] for row in expected]
        assert statement.columns(connection.dialect, raw[0], 0, width) == expected[0][:width]


def test_parameters_are_bound_as_connection_execute_binds_them(mill: Ordermill) -> None:
    """Bind processors run for every value, None too: a JSON None is stored as JSON's
    null by both paths (not SQL NULL), a time as the dialect stores times."""
    when = dt.datetime(2026, 12, 1, 12, 30, tzinfo=dt.UTC)
    put = HotStatement(insert(Setting), keys=("key", "value", "updated_at"))
    with mill.write_session() as session, session.begin():
        connection = session.connection()
        connection.execute(insert(Setting), {"key": "core", "value": None, "updated_at": when})
        assert put.rowcount(connection, {"key": "hot", "value": None, "updated_at": when}) == 1
        stored = connection.execute(
            select(Setting.key, Setting.value.is_(None), Setting.updated_at)
            .where(Setting.key.in_(["core", "hot"])).order_by(Setting.key)).all()
    assert [tuple(row)[1:] for row in stored] == [(False, when), (False, when)]


def test_statement_listeners_hear_each_execution(
        mill: Ordermill, make_product: Callable[..., Any]) -> None:
    make_product("MUG", price=800, stock=5)
    heard: list[str] = []

    def note(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        heard.append(statement.split()[0].upper())

    raise_stock = HotStatement(update(Product).where(Product.sku == bindparam("wanted"))
                               .values(stock=Product.stock + bindparam("more")))
    event.listen(mill.engine, "before_cursor_execute", note)
    try:
        with mill.write_session() as session, session.begin():
            assert raise_stock.rowcount(session.connection(), {"wanted": "MUG", "more": 2}) == 1
            assert raise_stock.rowcount(session.connection(), {"wanted": "NONE", "more": 1}) == 0
    finally:
        event.remove(mill.engine, "before_cursor_execute", note)
    assert heard.count("UPDATE") == 2
    with mill.read_session() as session:
        assert session.scalar(select(Product.stock).where(Product.sku == "MUG")) == 7


def test_a_driver_error_is_sqlalchemys_and_changes_nothing(
        mill: Ordermill, make_product: Callable[..., Any]) -> None:
    make_product("MUG", price=800, stock=5)
    row = {"sku": "MUG", "name": "Mug again", "price": 900, "currency": "EUR",
           "kind": "physical", "tax_class": "standard", "active": True, "options": {},
           "created_at": dt.datetime.now(dt.UTC)}
    add = HotStatement(insert(Product).returning(Product.id), keys=tuple(row))
    with pytest.raises(IntegrityError), mill.write_session() as session, session.begin():
        add.rows(session.connection(), row)  # the sku is taken
    with mill.read_session() as session:
        assert session.scalars(select(Product.name)).all() == ["Mug"]
    with mill.write_session() as session, session.begin():
        [(new_id,)] = add.rows(session.connection(), {**row, "sku": "CUP", "name": "Cup"})
    with mill.read_session() as session:
        assert session.scalar(select(Product.name).where(Product.id == new_id)) == "Cup"


def test_a_statement_whose_sql_depends_on_its_parameters_is_refused(mill: Ordermill) -> None:
    """An IN list renders per execution; a column default left out would need the
    execution to fill it (a NULL instead of the default): both are refused."""
    partial = HotStatement(insert(Product).returning(Product.id),
                           keys=("sku", "name", "price", "currency", "kind"))
    with mill.write_session() as session, session.begin(), pytest.raises(
            TypeError, match=r"every column with a default: .*tax_class"):
        partial.rows(session.connection(), {"sku": "CUP", "name": "Cup", "price": 1,
                                            "currency": "EUR", "kind": "physical"})
    listed = HotStatement(select(Product.id).where(Product.sku.in_(bindparam("skus",
                                                                             expanding=True))))
    with mill.read_session() as session, pytest.raises(TypeError, match="fixed"):
        listed.rows(session.connection(), {"skus": ["MUG"]})
