"""Issue 14, items 4 to 8: what the order page offers and says, through the admin's forms.

Buttons and labels come from the core (`available_actions`, derived statuses); previews say
what will happen; messages use the registries' labels and the tables' money format; the
page links to the customer's own order page; "customer notified" is true only when a
message was queued. Each test failed on main before issue 14.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from adminkit import Admin

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import Order, OrderEvent
from ordermill.core.specs import Actor, JobRequest

Factory = Callable[..., Order]


def _page(admin: Admin, number: str) -> str:
    answer = admin.get(f"/admin/orders/{number}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _header(html: str) -> str:
    found = re.search(r'<div class="head-badges">(.*?)<span class="muted">', html, re.S)
    assert found, html
    return _plain(found.group(1))


# ---------------------------------------------------------------------------- item 8


def test_unpaid_orders_offer_cancel_not_cancel_and_refund(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        staff: Actor) -> None:
    unpaid = order_factory([("TSHIRT", 1)])
    html = _page(admin, unpaid.number)
    assert 'data-testid="action-cancel"' in html
    assert 'data-testid="action-cancel-and-refund"' not in html
    part_paid = order_factory([("TSHIRT", 2)])
    mill.orders.record_payment(part_paid.number, actor=staff, amount=1000)
    assert 'data-testid="action-cancel-and-refund"' in _page(admin, part_paid.number)


def test_a_fraud_order_with_its_invoice_cancelled_shows_no_amount_due(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        staff: Actor) -> None:
    order = order_factory([("TSHIRT", 1)])
    mill.orders.mark_fraud(order.number, actor=staff)
    html = _page(admin, order.number)
    assert "Cancelled" in html  # the invoice
    assert "Amount due" not in html and 'data-testid="order-due"' not in html
    open_order = order_factory([("TSHIRT", 1)])
    assert 'data-testid="order-due"' in _page(admin, open_order.number)


def test_the_header_shows_no_label_twice(admin: Admin, mill: Ordermill, shop: None,
                                         order_factory: Factory, staff: Actor) -> None:
    paid = order_factory([("TSHIRT", 1)], paid=True)
    assert _header(_page(admin, paid.number)) == "Pending Paid"
    unpaid = order_factory([("TSHIRT", 1)])
    assert _header(_page(admin, unpaid.number)) == "Pending Unpaid"
    partly = order_factory([("TSHIRT", 1), ("MUG", 1)], paid=True, accepted=True)
    mill.orders.cancel(partly.number, actor=staff, line_ids=[partly.lines[1].id])
    assert _header(_page(admin, partly.number)) == "Active Paid 1/2 Complete"


def test_the_list_payment_column_agrees_with_the_summary(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        staff: Actor) -> None:
    order = order_factory([("TSHIRT", 2)])
    mill.orders.record_payment(order.number, actor=staff, amount=1000)
    html = admin.get("/admin/orders").get_data(as_text=True)
    row = re.search(rf'<tr data-number="{order.number}".*?</tr>', html, re.S)
    assert row
    text = _plain(row.group(0))
    assert "Partially paid" in text and "Unpaid" not in text


# ---------------------------------------------------------------------------- item 6


def test_previews_say_what_will_happen(admin: Admin, mill: Ordermill, shop: None,
                                       order_factory: Factory) -> None:
    tickets = order_factory([("TICKET", 2)])
    shown = admin.post(f"/admin/orders/{tickets.number}/cancel/preview", {
        "version": tickets.version, "line_ids": [tickets.lines[0].id],
        "restock": "on"}).get_json()
    assert shown["message"] == "Will cancel the order and release 2 tickets."
    paid = order_factory([("TSHIRT", 1), ("MUG", 2)], paid=True)
    shown = admin.post(f"/admin/orders/{paid.number}/refund/preview", {
        "version": paid.version, "line_ids": [paid.lines[1].id],
        "restock": "on"}).get_json()
    assert shown["message"].startswith("Will refund €25.00 for Mug x2 and release 2 units.")
    page = admin.post(f"/admin/orders/{paid.number}/status", {
        "version": paid.version, "status": "completed", "preview": "1",
        "_from": "page"}).get_data(as_text=True)
    assert "Will move the order from Pending to Completed." in _plain(page)
    assert mill.orders.get(paid.number).status == "pending"  # previews change nothing
    # the real action records what happened, in the past tense
    done = admin.post(f"/admin/orders/{tickets.number}/cancel", {
        "version": tickets.version, "line_ids": [tickets.lines[0].id], "restock": "on"})
    assert done.status_code == 303
    assert mill.orders.history(tickets.number)[-1].message.startswith("Order cancelled.")


# ---------------------------------------------------------------------------- item 7


def test_messages_use_labels_and_the_tables_money_format(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        staff: Actor) -> None:
    order = order_factory([("TSHIRT", 1), ("MUG", 1)], paid=True, accepted=True)
    admin.post(f"/admin/orders/{order.number}/refund", {
        "version": order.version, "line_ids": [order.lines[1].id]})
    said = _plain(_page(admin, order.number))
    assert "Refunded €12.50 for Mug x1." in said
    assert "Return the money by hand: Bank transfer cannot refund automatically." in said
    assert "banktransfer" not in said and "12.50 EUR" not in said

    completed = order_factory([("TSHIRT", 1)], paid=True)
    mill.orders.set_status(completed.number, "completed", actor=staff)
    refused = admin.post(f"/admin/orders/{completed.number}/status", {
        "version": mill.orders.get(completed.number).version, "status": "pending",
        "_from": "page"})
    text = _plain(refused.get_data(as_text=True))
    assert "Completed may move to" in text and "not Pending" in text
    assert "'completed'" not in text and "'pending'" not in text

    cancelled = order_factory([("TSHIRT", 1)])
    mill.orders.cancel(cancelled.number, actor=staff)
    mill.orders.record_payment(cancelled.number, actor=staff, amount=2000)
    page = _plain(_page(admin, cancelled.number))
    assert "payment of €20.00 received while the order is Cancelled" in page
    assert "20.00 EUR" not in page


# ---------------------------------------------------------------------------- item 4


def _customer_link(html: str) -> str:
    card = re.search(r'data-testid="customer-page"(.*?)</section>', html, re.S)
    assert card, "the order page has no Customer page card"
    found = re.search(r'href="([^"]+)"[^>]*data-testid="customer-link-open"', card.group(1))
    assert found and 'data-testid="customer-link-copy"' in card.group(1)
    assert f'value="{found.group(1)}"' in card.group(1)  # the link to copy by hand
    return found.group(1)


def test_the_order_page_links_to_the_customer_page_and_revokes_it(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory) -> None:
    order = order_factory([("TSHIRT", 1)], paid=True)
    html = _page(admin, order.number)
    link = _customer_link(html)
    assert link.startswith("http://localhost/my-order/")
    path = link.removeprefix("http://localhost")
    customer = admin.client.get(path)
    assert customer.status_code == 200 and order.number in customer.get_data(as_text=True)
    card = html[html.index('data-testid="customer-page"'):]
    assert card.index('data-testid="action-revoke-link"') < card.index("</section>")

    done = admin.post(f"/admin/orders/{order.number}/revoke-link",
                      {"version": str(order.version)})
    assert done.status_code == 303
    assert admin.client.get(path).status_code == 404  # the old link no longer opens
    fresh = _customer_link(_page(admin, order.number))
    assert fresh != link
    assert admin.client.get(fresh.removeprefix("http://localhost")).status_code == 200


# ---------------------------------------------------------------------------- item 5


def test_customer_notified_only_when_a_message_was_queued(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        register_plugin: Callable[..., object]) -> None:
    order = order_factory([("TSHIRT", 1)])
    html = _page(admin, order.number)
    assert 'data-testid="no-email"' in html and "E-mail is not set up" in html
    admin.post(f"/admin/orders/{order.number}/comment", {
        "version": order.version, "text": "Your parcel is late.", "notify_customer": "on"})
    [event] = [e for e in mill.orders.history(order.number) if e.type == "comment"]
    assert event.notify_customer is False
    assert "customer notified" not in _page(admin, order.number)

    class Mailer:  # a channel that queues the buyer's message
        @hookimpl
        def jobs_for_event(self, order: Order, event: OrderEvent) -> list[JobRequest]:
            return [JobRequest("test.mail", to_customer=True)] if event.notify_customer \
                else []

    register_plugin(Mailer(), name="testmailer")
    html = _page(admin, order.number)
    assert 'data-testid="no-email"' not in html
    admin.post(f"/admin/orders/{order.number}/comment", {
        "version": mill.orders.get(order.number).version, "text": "Shipped today.",
        "notify_customer": "on"})
    last = [e for e in mill.orders.history(order.number) if e.type == "comment"][-1]
    assert last.comment == "Shipped today." and last.notify_customer is True
    assert "customer notified" in _page(admin, order.number)
