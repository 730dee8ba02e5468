"""The erase_personal_data hook: a customer's erasure reaches what plugins store (the host
imports no plugin), inside the erasure's transaction, and a failing plugin aborts it all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.customers import customer_detail, erase_customer
from ordermill.core.errors import PluginError
from ordermill.core.models import Customer
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import tickets_of
from ordermill.testing import order_request


class NoteKeeper:
    """A plugin keeping free text about orders, which names the buyer."""

    def __init__(self) -> None:
        self.notes: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def erase_personal_data(self, customer: Customer, erasure: Any, ctx: Any) -> dict[str, int]:
        self.calls.append({"email": customer.email, "numbers": erasure.order_numbers,
                           "session": ctx.session})
        for number in erasure.order_numbers:
            self.notes[number] = erasure.scrub(self.notes[number])
        return {"notes": len(erasure.order_numbers)}


def _customer_id(mill: Ordermill, number: str) -> int:
    return mill.orders.get(number).customer_id


def test_hook_erase_personal_data_scrubs_plugin_data_and_reports(
        mill: Ordermill, register_plugin: Callable[..., object], make_product: Any,
        order_factory: Any, staff: Actor) -> None:
    keeper = register_plugin(NoteKeeper(), name="notekeeper")
    assert isinstance(keeper, NoteKeeper)
    make_product("TSHIRT", price=1000)
    order = order_factory(email="dora@example.com", name="Dora Dahl")
    keeper.notes[order.number] = "Dora Dahl (dora@example.com) asked for gift wrap."

    report = erase_customer(mill, order.customer_id, actor=staff)

    [call] = keeper.calls
    assert call["email"] == report["pseudonym_email"] and call["session"] is not None
    assert call["numbers"] == (order.number,)
    assert keeper.notes[order.number] == (f"{report['pseudonym']} "
                                          f"({report['pseudonym_email']}) asked for gift wrap.")
    assert report["erased"]["plugins"]["notekeeper"] == {"notes": 1}


def test_hook_erase_personal_data_failure_aborts_the_erasure(
        mill: Ordermill, register_plugin: Callable[..., object], make_product: Any,
        order_factory: Any, staff: Actor) -> None:
    class Broken:
        @hookimpl
        def erase_personal_data(self, customer: Customer, erasure: Any, ctx: Any) -> None:
            raise RuntimeError("archive is read-only")

    register_plugin(Broken(), name="broken-archive")
    make_product("TSHIRT", price=1000)
    order = order_factory(email="eve@example.com", name="Eve Ek")
    with pytest.raises(PluginError, match="broken-archive"):
        erase_customer(mill, order.customer_id, actor=staff)
    page = customer_detail(mill, order.customer_id, actor=staff)
    assert (page["email"], page["erased"]) == ("eve@example.com", False)
    assert mill.orders.get(order.number).buyer_name == "Eve Ek"


def test_hook_erase_personal_data_provisioning_renames_ticket_attendees(
        mill: Ordermill, make_product: Any, staff: Actor) -> None:
    make_product("GIG", name="Jazz night", price=3000, stock=100, kind="ticket",
                 options={"event": "Jazz Night"})
    lines = [LineRequest(sku="GIG", quantity=2, options={"attendees": ["Finn Fox",
                                                                       "Gus Gray"]})]
    number = mill.orders.place(order_request(lines, email="finn@example.com",
                                             name="Finn Fox"), actor=staff).order.number
    mill.orders.mark_paid(number, actor=staff)
    mill.outbox.run_until_empty()
    assert sorted(t.attendee for t in tickets_of(mill, number)) == ["Finn Fox", "Gus Gray"]

    report = erase_customer(mill, _customer_id(mill, number), actor=staff)

    assert {t.attendee for t in tickets_of(mill, number)} == {report["pseudonym"]}
    assert report["erased"]["plugins"]["provisioning"]["tickets"] == 2
    with mill.read_session() as session:
        assert "Gus Gray" not in str(session.scalar(select(Customer.name)))
    line = mill.orders.get(number).lines[0]
    assert "Gus" not in str(line.options) and "Finn" not in str(line.options)
