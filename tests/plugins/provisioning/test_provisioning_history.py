"""Provisioning writes history through the action runner (mill.orders.editing +
ctx.record_event): a check-in is a note that leaves the order's version alone, a provisioning
outcome is a change to the order (its version moves), and each is one commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import check_in, tickets_of
from ordermill.plugins.provisioning.etickets import TicketRefused
from ordermill.plugins.provisioning.models import ProvisionedService
from ordermill.plugins.provisioning.worker import record_failure
from ordermill.testing import order_request


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("GIG", name="Jazz night", price=3000, stock=100, kind="ticket")


def paid_ticket_order(mill: Ordermill, staff: Actor) -> str:
    lines = [LineRequest(sku="GIG", quantity=1, attendee="Ada Lovelace")]
    number = mill.orders.place(order_request(lines), actor=staff).order.number
    mill.orders.mark_paid(number, actor=staff)
    return number


def test_check_in_writes_its_event_and_keeps_the_order_version(
        mill: Ordermill, staff: Actor) -> None:
    number = paid_ticket_order(mill, staff)
    [ticket] = tickets_of(mill, number)
    before = mill.orders.get(number)
    answer = check_in(mill, ticket.code, actor=staff)
    assert (answer["status"], answer["checked_in_by"]) == ("checked_in", staff.label)
    event = mill.orders.history(number)[-1]
    assert (event.type, event.actor, event.data) == (
        "ticket_checked_in", staff.label, {"code": ticket.code, "line_id": ticket.line_id})
    assert event.message == f"Ticket {ticket.code} (Ada Lovelace) checked in."
    assert not event.visible_to_customer
    after = mill.orders.get(number)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    with pytest.raises(TicketRefused):
        check_in(mill, ticket.code, actor=staff)
    assert [e.type for e in mill.orders.history(number)].count("ticket_checked_in") == 1


def test_a_final_failure_is_an_event_and_a_new_order_version(
        mill: Ordermill, staff: Actor) -> None:
    """record_failure of the last attempt: the service is failed and the order says so, in
    one transaction of the action runner, by the worker's actor."""
    number = paid_ticket_order(mill, staff)
    with mill.write_session() as session, session.begin():
        service = session.scalar(select(ProvisionedService)
                                 .where(ProvisionedService.order_number == number))
        assert service is not None
        service.requests += 1
        service.pending_command = "suspend"
        service_id, request = service.id, service.requests
    before = mill.orders.get(number)
    record_failure(mill, service_id, request, "suspend", RuntimeError("panel down"), final=False)
    assert mill.orders.history(number)[-1].type != "provisioning_failed"  # only counted
    record_failure(mill, service_id, request, "suspend", RuntimeError("panel down"), final=True)
    event = mill.orders.history(number)[-1]
    assert (event.type, event.actor) == ("provisioning_failed", "system:provisioning")
    assert event.data["error"] == "RuntimeError: panel down"
    assert event.data["command"] == "suspend"
    assert "failed after 2 attempt(s)" in event.message
    assert mill.orders.get(number).version == before.version + 1

