"""Acceptance 2 of issue 19: after erasing a customer with orders, payments, comments, notes,
an edited and a deleted order and e-mails really sent over SMTP, none of their personal
strings is readable through the API, the admin, the CSV exports or any text/JSON column of
any table, while every order total, payment and the books stay as they were."""

from __future__ import annotations

from typing import Any

import attrs
from conftest import Api, check_error, text_of_every_column
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer, Invoice, Order, OutboxJob, Payment
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import Actor
from ordermill.plugins.notify_email.testing import SmtpSink

ALICE = {"email": "alice.quimby@example.org", "name": "Alice Quimby",
         "phone": "+44 20 7946 0958", "company": "Quimby Widgets",
         "billing_address": {"street": "12 Larkspur Lane", "city": "Dunwich",
                             "postcode": "IP17 3DQ", "country": "GB"}}
NEEDLES = ("alice", "quimby", "larkspur", "dunwich", "ip17 3dq", "+44 20 7946",
           "442079460958", "203.0.113.77", "widgets")


def _alice_order(mill: Ordermill, staff: Actor, note: str | None = None) -> str:
    details = CustomerDetails(**ALICE)
    result = mill.orders.place(OrderRequest(
        customer=details, lines=[LineRequest("TSHIRT", 2)], payment_method="banktransfer",
        customer_ip="203.0.113.77", note=note), actor=staff)
    assert result.order is not None
    return result.order.number


def _books(mill: Ordermill) -> dict[str, Any]:
    with mill.read_session() as session:
        orders = sorted((o.number, o.subtotal, o.discount, o.total, o.currency)
                        for o in session.scalars(select(Order)))
        payments = sorted((p.id, p.order_number, p.order_id, p.kind, p.status, p.amount, p.fee,
                           p.net, p.currency) for p in session.scalars(select(Payment)))
        invoices = sorted((i.id, i.order_id, i.amount, i.status)
                          for i in session.scalars(select(Invoice)))
    return {"orders": orders, "payments": payments, "invoices": invoices}


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [needle for needle in NEEDLES if needle in lowered]


RETAINED = {("invoice", "snapshot"), ("credit_note", "snapshot")}


def test_erasure_leaves_no_personal_data_anywhere_and_keeps_the_books(
        mill: Ordermill, api: Api, make_product: Any, staff: Actor, smtp: SmtpSink,
        admin_login: Any) -> None:
    make_product("TSHIRT", price=1000, stock=50)
    # 1: placed through the API with an Idempotency-Key (a stored replay of the answer)
    placed = api.post("orders", json={"customer": ALICE, "lines": [{"sku": "TSHIRT",
                      "quantity": 1}], "payment_method": "banktransfer",
                      "customer_ip": "203.0.113.77"}, headers={"Idempotency-Key": "k-1"})
    assert placed.status_code == 201, placed.get_json()
    first = placed.get_json()["order"]["number"]
    # 2: paid, commented (e-mailed), buyer phone edited
    second = _alice_order(mill, staff, note="Call Alice Quimby on +44 20 7946 0958.")
    mill.orders.mark_paid(second, actor=staff)
    mill.orders.add_comment(second, "Spoke to Alice Quimby (alice.quimby@example.org).",
                            actor=staff, notify_customer=True)
    mill.orders.edit_buyer(second, {"phone": "+44 20 7946 0000"}, actor=staff)
    # 3: placed, cancelled and deleted: its snapshot stays in the history
    third = _alice_order(mill, staff)
    mill.orders.cancel(third, actor=staff)
    mill.orders.delete(third, actor=staff, restock=True)
    assert mill.outbox.run_until_empty() > 0
    assert any("alice.quimby@example.org" in m["To"] for m in smtp.messages)
    # a dead job (the mail server refused) and a pending one
    smtp.stop()
    mill.orders.add_comment(first, "Alice, your parcel is late.", actor=staff,
                            notify_customer=True)
    mill.outbox.run_until_empty()
    smtp.start()
    mill.orders.add_comment(second, "Dear Alice Quimby, thanks!", actor=staff,
                            notify_customer=True)
    with mill.read_session() as session:
        statuses = {job.status for job in session.scalars(select(OutboxJob))}
        customer_id = session.scalar(select(Customer.id).where(Customer.email == ALICE["email"]))
    assert {"done", "dead", "pending"} <= statuses
    assert api.post(f"customers/{customer_id}/notes",
                    json={"text": "Alice Quimby prefers phone calls."}).status_code == 201
    assert api.patch(f"customers/{customer_id}",
                     json={"company": "Quimby Widgets Ltd"}).status_code == 200
    assert any(_leaks(text) for _t, _c, text in text_of_every_column(mill))
    books = _books(mill)

    erased = api.post(f"customers/{customer_id}/erase")

    assert erased.status_code == 200, erased.get_json()
    report = erased.get_json()
    assert report["retained"]["retention_years"] == 10 and report["retained"]["invoices"] >= 2
    assert "retention" in report["retained"]["note"]
    assert set(report["orders"]) == {first, second, third}
    assert not _leaks(erased.get_data(as_text=True))
    leaks = [(t, c, text) for t, c, text in text_of_every_column(mill) if _leaks(text)]
    # issued invoices and credit notes keep the buyer as issued, for the retention period the
    # law requires (the report above says so); nothing else may
    assert [(t, c) for t, c, _text in leaks if (t, c) not in RETAINED] == []
    assert {(t, c) for t, c, _text in leaks} <= RETAINED
    assert _books(mill) == books  # totals, payments, invoices and numbers are untouched
    for path in (f"customers/{customer_id}", f"orders/{first}", f"orders/{second}", "orders",
                 "customers", "orders/export.csv", "customers/export.csv", "payments",
                 "payments/export.csv", f"customers?q={report['pseudonym']}"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert not _leaks(response.get_data(as_text=True)), path
    assert api.get("customers?q=quimby").get_json()["total"] == 0
    admin = admin_login("admin")
    for path in (f"/admin/customers/{customer_id}", f"/admin/orders/{second}",
                 "/admin/orders", "/admin/customers"):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert not _leaks(page.get_data(as_text=True)), path
    # the pending message still goes out, to the pseudonym, never to Alice
    smtp.clear()
    mill.outbox.run_until_empty()
    assert all("alice" not in str(m["To"]).lower() for m in smtp.messages)
    # erasing twice is a clear error that changes nothing
    before = text_of_every_column(mill)
    check_error(api.post(f"customers/{customer_id}/erase"), 409, "already_erased")
    assert text_of_every_column(mill) == before


def test_erasure_report_counts_invoices_with_the_retention_setting(
        mill: Ordermill, make_product: Any, staff: Actor) -> None:
    from ordermill.core.customers import customer_detail, erase_customer

    mill.settings = attrs.evolve(mill.settings, invoice_retention_years=7)
    make_product("TSHIRT", price=1000)
    number = _alice_order(mill, staff)
    order = mill.orders.get(number)
    report = erase_customer(mill, order.customer_id, actor=staff)
    assert report["retained"]["retention_years"] == 7
    placed_year = order.invoices[0].created_at.year
    assert report["retained"]["retained_until"].startswith(str(placed_year + 7))
    page = customer_detail(mill, order.customer_id, actor=staff)
    assert page["erased"] and page["erasure"]["pseudonym"] == report["pseudonym"]
    assert page["history"][0]["type"] == "erased"
    assert mill.orders.history(number)[-1].type == "buyer_erased"
