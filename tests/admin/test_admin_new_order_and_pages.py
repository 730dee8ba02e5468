"""The admin's Add New Order, payments, invoice and receipt pages, and their assets (split from
test_admin_orders.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from adminkit import Admin
from sqlalchemy import func, select
from test_admin_orders import user_id  # the helper shared with the order tests

from ordermill.core.app import Ordermill
from ordermill.core.models import Invoice, Order
from ordermill.core.specs import Actor

Factory = Callable[..., Order]












# ---------------------------------------------------------------------------- the list


def test_add_new_order_as_admin(admin: Admin, mill: Ordermill, shop: None) -> None:
    page = admin.get("/admin/orders/new").get_data(as_text=True)
    assert 'name="price_override"' in page and 'name="billing_cycle"' in page
    form = {"name": "Cora Client", "email": "cora@example.com", "company": "Cora Ltd",
            "city": "Ghent", "country": "BE", "payment_method": "banktransfer",
            "promo": "SAVE10", "sku": ["TSHIRT", "TICKET", ""], "quantity": ["2", "1", "1"],
            "price_override": ["15.00", "", ""], "billing_cycle": ["", "", ""],
            "domain": ["", "", ""], "attendee": ["", "Cora", ""],
            "sales_manager_id": "", "note": "Phoned in."}
    with mill.read_session() as session:
        before = session.scalar(select(func.count()).select_from(Order))
    preview = admin.post("/admin/orders/new", {**form, "preview": "1"})
    assert preview.status_code == 200
    assert "Preview:" in preview.get_data(as_text=True)
    with mill.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == before
    placed = admin.post("/admin/orders/new", form)
    assert placed.status_code == 303
    number = placed.location.rsplit("/", 1)[1]
    order = mill.orders.get(number)
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == \
        [("TSHIRT", 2, 1500), ("TICKET", 1, 4500)]
    assert order.promo_code == "SAVE10" and order.discount == 750 and order.total == 6750
    assert order.buyer_name == "Cora Client" and order.customer_note == "Phoned in."
    assert order.invoices == []  # generate invoice was not ticked

    known = admin.post("/admin/orders/new", {
        "customer_id": str(order.customer_id), "payment_method": "banktransfer",
        "sku": ["MUG"], "quantity": ["1"], "generate_invoice": "on",
        "sales_manager_id": str(user_id(mill, "admin@shop.test"))})
    again = mill.orders.get(known.location.rsplit("/", 1)[1])
    assert again.buyer_email == "cora@example.com" and len(again.invoices) == 1
    assert again.sales_manager_id == user_id(mill, "admin@shop.test")


def test_add_new_order_shows_the_core_refusal(admin: Admin, mill: Ordermill,
                                              shop: None) -> None:
    response = admin.post("/admin/orders/new", {
        "name": "Dee", "email": "dee@example.com", "payment_method": "banktransfer",
        "sku": ["MUG"], "quantity": ["50"]})
    assert response.status_code == 409
    assert "MUG" in response.get_data(as_text=True)
    nothing = admin.post("/admin/orders/new", {"name": "Dee", "email": "dee@example.com",
                                               "payment_method": "banktransfer"})
    assert nothing.status_code == 422
    assert "Choose at least one product." in nothing.get_data(as_text=True)


# ---------------------------------------------------------------------------- payments, paper


def test_payments_tab_lists_every_payment(admin: Admin, mill: Ordermill, shop: None,
                                          order_factory: Factory, staff: Actor) -> None:
    order = order_factory([("TSHIRT", 1)], paid=True, accepted=True)
    mill.orders.refund(order.number, actor=staff, amount=500)
    html = admin.get("/admin/payments").get_data(as_text=True)
    for text in ("Invoice", "Gateway", "Amount", "Fee", "Money credited", "Currency",
                 order.number, "€20.00", "\u2212€5.00", "Refund", "Succeeded", "Bank transfer"):
        assert text in html, text
    with mill.read_session() as session:
        invoice_id = session.scalar(select(Invoice.id))
    assert f"#{invoice_id}" in html
    refunds = admin.get("/admin/payments?kind=refund").get_data(as_text=True)
    assert "\u2212€5.00" in refunds and "€20.00" not in refunds
    exported = admin.get("/admin/payments/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(row["kind"], row["amount"]) for row in rows] == [("charge", "20.00"),
                                                              ("refund", "5.00")]


def test_invoice_and_receipt_pages(admin: Admin, mill: Ordermill, shop: None,
                                   order_factory: Factory) -> None:
    order = order_factory([("TSHIRT", 1)], paid=True)
    invoice_id = order.invoices[0].id
    invoice = admin.get(f"/admin/orders/{order.number}/invoices/{invoice_id}")
    assert invoice.status_code == 200
    # issued at placement, the invoice is shown by its number (issue 15)
    assert f"Invoice {order.invoices[0].number}" in invoice.get_data(as_text=True)
    assert order.invoices[0].number.startswith("INV-")
    assert admin.get(f"/admin/orders/{order.number}/invoices/999999").status_code == 404
    receipt = admin.get(f"/admin/orders/{order.number}/receipt").get_data(as_text=True)
    assert "Receipt" in receipt and "€20.00" in receipt


@pytest.mark.parametrize("path", ["/admin/orders", "/admin/payments", "/admin/orders/new"])
def test_pages_load_their_css_and_js_from_the_package(admin: Admin, path: str) -> None:
    html = admin.get(path).get_data(as_text=True)
    assert "/admin/static/admin.css" in html and "/admin/static/admin.js" in html
    assert "http://" not in html.replace("http://localhost", "")
    assert "https://" not in html
    css = admin.client.get("/admin/static/admin.css")
    assert css.status_code == 200 and b".badge" in css.data


def test_pages_link_css_and_js_by_digest_and_browsers_keep_them(admin: Admin) -> None:
    """Linked with `?v=<digest>` the files may be kept a year (no request per page); asked
    for without it, or with a stale digest, they are revalidated as before."""
    import re

    html = admin.get("/admin/orders").get_data(as_text=True)
    links = dict(re.findall(r'/admin/static/(admin\.(?:css|js))\?v=([0-9a-f]{12})"', html))
    assert set(links) == {"admin.css", "admin.js"}
    kept = admin.client.get(f"/admin/static/admin.css?v={links['admin.css']}")
    assert kept.status_code == 200 and kept.cache_control.max_age == 365 * 24 * 3600
    assert kept.cache_control.public and "no-store" not in kept.headers["Cache-Control"]
    for stale in ("/admin/static/admin.css", "/admin/static/admin.css?v=000000000000",
                  f"/admin/static/admin.js?v={links['admin.css']}"):
        answer = admin.client.get(stale)
        assert answer.status_code == 200 and answer.cache_control.max_age is None, stale
    assert admin.get("/admin/orders/new").status_code == 200  # every page, every template
    reports = admin.get("/admin/reports/")  # a plugin's own template links the same way
    assert reports.status_code == 200
    assert f"admin.css?v={links['admin.css']}" in reports.get_data(as_text=True)
