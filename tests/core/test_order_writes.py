"""Writing a loaded order's changes (core/orders/saving.py `write_order_changes`, issue 20).

When the order is the unit of work's only change, one Core UPDATE ... WHERE id AND version
writes it instead of a flush: the version is raised, `onupdate` columns are filled, a row
someone else changed is refused, and the order is left committed as a flush leaves it.
Anything else in the unit of work is flushed as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer, Invoice, Order, OrderEvent, utcnow
from ordermill.core.orders.saving import insert_one, write_order_changes
from ordermill.core.specs import Actor


@pytest.fixture
def number(make_product: Callable[..., Any], order_factory: Callable[..., Any]) -> str:
    make_product(stock=None)
    return str(order_factory().number)


def _statements(mill: Ordermill) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(mill.engine, "before_cursor_execute", note)
    return seen, lambda: event.remove(mill.engine, "before_cursor_execute", note)


def test_an_order_only_change_is_one_update_without_a_flush(
        mill: Ordermill, number: str, staff: Actor) -> None:
    flushed: list[str] = []

    def note_flush(session: Session, _context: Any) -> None:
        flushed.extend(type(obj).__name__ for obj in (*session.new, *session.dirty))

    event.listen(Session, "after_flush", note_flush)
    seen, stop = _statements(mill)
    try:
        mill.orders.accept(number, actor=staff)
    finally:
        stop()
        event.remove(Session, "after_flush", note_flush)
    assert [s for s in seen if s.startswith("UPDATE SHOP_ORDER")] == ["UPDATE SHOP_ORDER SET"]
    assert "Order" not in flushed  # no flush wrote it
    order = mill.orders.get(number)
    assert (order.status, order.version) == ("active", 2) and order.accepted_at is not None


def test_the_update_raises_the_version_fills_onupdate_and_leaves_the_order_committed(
        mill: Ordermill, number: str) -> None:
    with mill.write_session() as session, session.begin():
        order = session.scalars(select(Order).where(Order.number == number)).one()
        stamped = order.updated_at
        order.customer_note = "Leave at the door."  # updated_at not set: its onupdate fills it
        assert write_order_changes(session, order) == {"customer_note"}
        state = inspect(order)
        assert not state.modified and not session.dirty  # nothing left for a flush
        assert order.version == 2 and order.updated_at != stamped
        stored = session.execute(select(Order.customer_note, Order.version).where(
            Order.id == order.id)).one()
        assert tuple(stored) == ("Leave at the door.", 2)
        assert write_order_changes(session, order) == frozenset()  # nothing changed since


def test_a_row_changed_behind_the_order_is_refused_and_not_written(
        mill: Ordermill, number: str) -> None:
    with pytest.raises(StaleDataError), mill.write_session() as session, session.begin():
        order = session.scalars(select(Order).where(Order.number == number)).one()
        session.execute(update(Order.__table__).where(Order.__table__.c.id == order.id)
                        .values(version=Order.__table__.c.version + 1))  # someone else
        order.customer_note = "Mine."
        write_order_changes(session, order)
    stored = mill.orders.get(number)
    assert (stored.customer_note, stored.version) != ("Mine.", 2)
    assert stored.version == 1  # the whole transaction rolled back


def test_with_other_changes_in_the_unit_of_work_it_flushes_them_all(
        mill: Ordermill, number: str) -> None:
    with mill.write_session() as session, session.begin():
        order = session.scalars(select(Order).where(Order.number == number)).one()
        order.customer_note = "With a note."
        session.add(OrderEvent(order_id=order.id, order_number=number, type="note",
                               actor="test", message="A note.", data={}))
        assert write_order_changes(session, order) == {"customer_note"}
        assert not session.new and not session.dirty  # flushed, the event too
    with mill.read_session() as session:
        assert session.scalar(select(Order.version).where(Order.number == number)) == 2
        assert session.scalars(select(OrderEvent.type).where(
            OrderEvent.order_number == number, OrderEvent.type == "note")).all() == ["note"]


def test_insert_one_leaves_the_row_persistent_and_committed(mill: Ordermill) -> None:
    """A new row inserted by `insert_one` is what a flush leaves: persistent in the session,
    nothing left to write, its defaults filled."""
    with mill.write_session() as session, session.begin():
        customer = Customer(email="new@example.com", name="New Buyer", created_at=utcnow())
        insert_one(session, customer)
        state = inspect(customer)
        assert state.persistent and not state.modified and not session.dirty
        assert customer.id is not None and customer.language == "en"
        assert session.get(Customer, customer.id) is customer
        customer.name = "Renamed"  # and a later change is flushed as for any loaded row
        session.flush()
    with mill.read_session() as session:
        assert session.get(Customer, customer.id).name == "Renamed"  # type: ignore[union-attr]


def test_insert_one_cascades_a_related_object_the_session_lacks(
        mill: Ordermill, number: str) -> None:
    """A relationship holding an object not in the session: `Session.add` puts it there, as
    it would have; the fast attach (straight into the identity map) would have left it out."""
    with mill.write_session() as session, session.begin():
        order = session.scalars(select(Order).where(Order.number == number)).one()
        stray = Order(number="9999999999", currency="EUR")
        invoice = Invoice(order_id=order.id, amount=100, currency="EUR")
        invoice.order = stray
        insert_one(session, invoice)
        assert inspect(invoice).persistent and stray in session.new
        session.rollback()
