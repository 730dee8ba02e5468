"""E-tickets: issued only once an order is paid, one per attendee, as a PDF whose text carries
each name and code and whose QR codes decode to the codes; voided with their line; checked in
exactly once."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
import zxingcpp
from panelfake import Api
from pdfminer.high_level import extract_text
from pypdf import PdfReader
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import ActionNotAllowed, NotFound, PermissionDenied
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ETicket, check_in, tickets_of, tickets_pdf
from ordermill.plugins.provisioning.etickets import TicketRefused, normalize_code
from ordermill.testing import order_request

ATTENDEES = ["Ada Lovelace", "Grace Hopper"]


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("GIG", name="Jazz night", price=3000, stock=100, kind="ticket",
                 options={"event": "Jazz Night at the Old Mill"})
    make_product("VIP", name="VIP pass", price=9000, stock=10, kind="ticket")


def place(mill: Ordermill, staff: Actor, **extra: Any) -> str:
    lines = [LineRequest(sku="GIG", quantity=2, options={"attendees": ATTENDEES}),
             LineRequest(sku="VIP", quantity=1, attendee="Zoë Quartet")]
    return mill.orders.place(order_request(lines, **extra), actor=staff).order.number


def codes(mill: Ordermill, number: str, status: str | None = None) -> list[str]:
    return [t.code for t in tickets_of(mill, number) if status is None or t.status == status]


def qr_codes(pdf: bytes) -> list[str]:
    """Every QR code in the PDF's images, decoded."""
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found += [result.text for result in zxingcpp.read_barcodes(image.image)]
    return found


def test_bank_transfer_order_has_no_tickets_until_paid_then_a_pdf_with_names_codes_and_qr(
        mill: Ordermill, staff: Actor, api: Api) -> None:
    number = place(mill, staff, payment_method="banktransfer")
    assert tickets_of(mill, number) == [] and tickets_pdf(mill, number) is None
    unpaid = api("GET", f"orders/{number}/tickets.pdf", "viewer")
    assert unpaid.status_code == 409
    assert unpaid.get_json()["error"]["code"] == "no_tickets"
    mill.orders.record_payment(number, actor=staff, amount=5000)  # partly paid: still none
    assert tickets_of(mill, number) == []

    mill.orders.mark_paid(number, actor=staff)
    tickets = tickets_of(mill, number)
    assert [(t.attendee, t.unit, t.status) for t in tickets] == [
        ("Ada Lovelace", 1, "valid"), ("Grace Hopper", 2, "valid"), ("Zoë Quartet", 1, "valid")]
    assert tickets[0].event_name == "Jazz Night at the Old Mill"
    assert tickets[2].event_name == "VIP pass"
    assert len({t.code for t in tickets}) == 3
    assert all(len(t.code) == 14 and t.code.count("-") == 2 for t in tickets)
    payment_event = mill.orders.history(number)[-1]
    assert payment_event.type == "payment"
    issued = [code for note in payment_event.data["provisioning"]
              for code in note.get("issued", [])]
    assert sorted(issued) == sorted(t.code for t in tickets)
    assert [line.provisioning_status for line in mill.orders.get(number).lines] == [
        "active", "active"]

    response = api("GET", f"orders/{number}/tickets.pdf", "viewer")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"tickets-{number}.pdf" in response.headers["Content-Disposition"]
    pdf = response.get_data()
    text = extract_text(io.BytesIO(pdf))
    for ticket in tickets:
        assert ticket.attendee in text
        assert ticket.code in text
    assert "Jazz Night at the Old Mill" in text
    assert sorted(qr_codes(pdf)) == sorted(t.code for t in tickets)
    listed = api("GET", f"orders/{number}/tickets", "viewer").get_json()["tickets"]
    assert [t["code"] for t in listed] == [t.code for t in tickets]


def test_a_refunded_ticket_fails_check_in_and_a_second_check_in_is_refused(
        mill: Ordermill, staff: Actor, api: Api) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff)
    gig, vip = mill.orders.get(number).lines
    gig_codes = [t.code for t in tickets_of(mill, number) if t.line_id == gig.id]
    [vip_code] = [t.code for t in tickets_of(mill, number) if t.line_id == vip.id]

    mill.orders.refund(number, actor=staff, line_ids=[vip.id])
    [vip_ticket] = [t for t in tickets_of(mill, number) if t.line_id == vip.id]
    assert (vip_ticket.status, vip_ticket.void_reason) == ("void", "refunded")
    refused = api("POST", f"tickets/{vip_code}/check-in", "support")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "ticket_refused" and "refunded" in error["message"]
    assert mill.orders.history(number)[-1].type == "refunded"  # no extra event for voiding

    assert api("POST", f"tickets/{gig_codes[0]}/check-in", "viewer").status_code == 403
    admitted = api("POST", f"tickets/{gig_codes[0].lower().replace('-', '')}/check-in",
                   "support")
    assert admitted.status_code == 200, admitted.get_data(as_text=True)
    assert admitted.get_json()["status"] == "checked_in"
    assert admitted.get_json()["checked_in_by"].startswith("token:")
    again = api("POST", f"tickets/{gig_codes[0]}/check-in", "support")
    assert again.status_code == 409
    assert "already checked in" in again.get_json()["error"]["message"]
    assert api("POST", "tickets/NOPE-NOPE-NOPE/check-in").status_code == 404
    assert mill.orders.history(number)[-1].type == "ticket_checked_in"
    # the PDF still prints the valid and the used ticket, never the void one
    pdf = tickets_pdf(mill, number)
    assert pdf is not None and sorted(qr_codes(pdf)) == sorted(gig_codes)


@pytest.mark.commits  # four doors on four threads
def test_check_in_is_exactly_once_under_concurrency(mill: Ordermill, staff: Actor) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff)
    code = codes(mill, number)[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def door() -> None:
        barrier.wait()
        try:
            check_in(mill, code, actor=staff)
            outcomes.append("in")
        except TicketRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=door) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["in", "refused", "refused", "refused"]


def test_cancel_fraud_and_back_to_pending(mill: Ordermill, staff: Actor) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff)
    gig, vip = mill.orders.get(number).lines
    mill.orders.cancel(number, actor=staff, line_ids=[gig.id])
    assert sorted(t.status for t in tickets_of(mill, number)) == ["valid", "void", "void"]
    with pytest.raises(TicketRefused, match="cancelled"):
        check_in(mill, codes(mill, number, "void")[0], actor=staff)

    old_vip = codes(mill, number, "valid")
    mill.orders.mark_fraud(number, actor=staff)
    assert codes(mill, number, "valid") == []
    mill.orders.set_back_to_pending(number, actor=staff)  # still paid: new codes, old stay void
    fresh = codes(mill, number, "valid")
    assert len(fresh) == 1 and fresh != old_vip
    assert [t.unit for t in tickets_of(mill, number) if t.line_id == vip.id] == [1, 2]
    with pytest.raises(TicketRefused):
        check_in(mill, old_vip[0], actor=staff)
    check_in(mill, fresh[0], actor=staff)


def test_added_products_get_tickets_once_paid_again(mill: Ordermill, staff: Actor) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff)
    assert len(codes(mill, number)) == 3
    mill.orders.add_lines(number, [LineRequest(sku="GIG", quantity=1, attendee="Alan Kay")],
                          actor=staff)
    assert len(codes(mill, number)) == 3  # owed again: the new ticket waits for the money
    mill.orders.mark_paid(number, actor=staff)
    tickets = tickets_of(mill, number)
    assert [t.attendee for t in tickets][-1] == "Alan Kay" and len(tickets) == 4


def test_free_ticket_orders_get_tickets_at_once(mill: Ordermill, staff: Actor,
                                                make_product: Callable[..., Any]) -> None:
    make_product("FREE", name="Open rehearsal", price=0, stock=None, kind="ticket")
    number = mill.orders.place(order_request([LineRequest(sku="FREE", quantity=1)]),
                               actor=staff).order.number
    [ticket] = tickets_of(mill, number)
    assert ticket.attendee == "Bea Buyer"  # nobody named: the buyer


def test_tickets_by_hand_only_once_paid(mill: Ordermill, staff: Actor, api: Api) -> None:
    number = place(mill, staff)
    gig = mill.orders.get(number).lines[0]
    early = api("POST", f"orders/{number}/lines/{gig.id}/provision", json={})
    assert early.status_code == 409 and "not paid" in early.get_json()["error"]["message"]
    mill.orders.mark_paid(number, actor=staff)
    again = api("POST", f"orders/{number}/lines/{gig.id}/provision", json={})
    assert again.status_code == 409  # issued with the payment: nothing left to create
    suspended = api("POST", f"orders/{number}/lines/{gig.id}/provision",
                    json={"command": "suspend"})
    assert suspended.status_code == 202 and suspended.get_json()["status"] == "suspended"
    code = next(t.code for t in tickets_of(mill, number) if t.line_id == gig.id)
    with pytest.raises(TicketRefused, match="suspended"):
        check_in(mill, code, actor=staff)
    api("POST", f"orders/{number}/lines/{gig.id}/provision", json={"command": "unsuspend"})
    assert check_in(mill, code, actor=staff)["status"] == "checked_in"


def test_reading_needs_view_orders(mill: Ordermill, staff: Actor) -> None:
    number = place(mill, staff)
    nobody = Actor(kind="user", name="x@shop.test", role="customer")
    with pytest.raises(PermissionDenied):
        tickets_of(mill, number, actor=nobody)
    with pytest.raises(PermissionDenied):
        check_in(mill, "AAAA-BBBB-CCCC", actor=nobody)
    with pytest.raises(NotFound):
        check_in(mill, "AAAA-BBBB-CCCC", actor=staff)
    assert normalize_code(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"
    assert issubclass(TicketRefused, ActionNotAllowed)


def test_deleting_a_refunded_order_takes_its_tickets(mill: Ordermill, staff: Actor) -> None:
    number = place(mill, staff)
    mill.orders.mark_paid(number, actor=staff)
    assert len(codes(mill, number)) == 3
    mill.orders.refund(number, actor=staff)
    assert codes(mill, number, "valid") == []
    mill.orders.delete(number, actor=staff, restock=True)
    with mill.read_session() as session:
        assert session.scalar(select(func.count()).select_from(ETicket)) == 0


def test_messages_carry_the_tickets_pdf_once_paid(mill: Ordermill, staff: Actor) -> None:
    from ordermill.plugins.notify_email.attachments import attachments_for

    number = place(mill, staff, payment_method="banktransfer")
    unpaid = mill.orders.get(number)
    assert not any(f.filename.startswith("tickets-")
                   for f in attachments_for(mill, unpaid, "order_confirmation"))
    mill.orders.mark_paid(number, actor=staff)
    paid = mill.orders.get(number)
    [pdf] = [f for f in attachments_for(mill, paid, "payment_received")
             if f.filename == f"tickets-{number}.pdf"]
    text = extract_text(io.BytesIO(pdf.data))
    assert all(ticket.code in text for ticket in tickets_of(mill, number))
