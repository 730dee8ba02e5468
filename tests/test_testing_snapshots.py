"""data_snapshot (ordermill.testing_snapshots): a module's shop history built once per database,
then given back whole to each test, with what the test made before it in other tables kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import NotFound
from ordermill.core.models import ApiToken, Order, OrderEvent, Product
from ordermill.core.specs import Actor

BUILDS: Counter[str] = Counter()


@pytest.fixture
def history(mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
            order_factory: Callable[..., Order], ordermill_backend: str,
            data_snapshot: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        BUILDS[ordermill_backend] += 1
        make_product("TSHIRT", price=1250, stock=10)
        paid = order_factory([("TSHIRT", 2)], paid=True)
        pending = order_factory([("TSHIRT", 1)])
        return {"paid": paid.number, "pending": pending.number}

    return data_snapshot("history", build)


def state(mill: Ordermill) -> dict[str, Any]:
    with mill.read_session() as session:
        return {
            "orders": sorted(session.execute(select(Order.id, Order.number, Order.status,
                                                    Order.total)).all()),
            "stock": session.scalars(select(Product.stock)).all(),
            "events": session.scalar(select(func.count()).select_from(OrderEvent)),
        }


def test_the_history_is_built_once_per_database_and_restored_whole(
        mill: Ordermill, staff: Actor, history: dict[str, Any], ordermill_backend: str,
        order_factory: Callable[..., Order], data_snapshot: Callable[..., Any]) -> None:
    assert BUILDS[ordermill_backend] == 1
    first = state(mill)
    assert {number for _id, number, _status, _total in first["orders"]} == set(history.values())
    assert first["stock"] == [7]

    extra = order_factory([("TSHIRT", 3)])  # the test changes what it was given
    mill.orders.cancel(history["pending"], actor=staff)
    assert state(mill) != first

    again = data_snapshot("history", lambda: pytest.fail("built a second time"))
    assert again == history
    assert state(mill) == first  # the extra order gone, the cancelled one pending again
    assert mill.orders.get(history["pending"]).status == "pending"
    with pytest.raises(NotFound):
        mill.orders.get(extra.number)

    newer = order_factory([("TSHIRT", 1)])  # new rows get ids past the restored ones
    assert newer.id > max(row[0] for row in first["orders"])


def test_what_the_test_made_in_other_tables_stays(mill: Ordermill, tokens: dict[str, str],
                                                  history: dict[str, Any]) -> None:
    with mill.read_session() as session:
        kept = session.scalar(select(func.count()).select_from(ApiToken))
    assert kept == len(tokens)
    assert mill.orders.get(history["paid"]).payment_status == "paid"


def test_a_changed_value_does_not_reach_the_next_test(history: dict[str, Any]) -> None:
    assert set(history) == {"paid", "pending"}
    history["paid"] = "changed here only"


@pytest.mark.commits
def test_a_commits_test_builds_its_own(mill: Ordermill, ordermill_backend: str,
                                       data_snapshot: Callable[..., Any]) -> None:
    built: list[int] = []
    data_snapshot("commits", lambda: built.append(1))
    data_snapshot("commits", lambda: built.append(1))
    assert built == ([1] if ordermill_backend == "sqlite" else [1, 1])
