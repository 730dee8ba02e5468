"""The customer's order-status page, reached by the signed link in every customer e-mail.

GET /my-order/<token> shows the order's status, its lines, dispatch and delivery dates, and
the progress comments the shop marked visible to the customer (Kartris: customers check order
progress in their account), nothing else from the history, and its issued invoices and credit
notes with their PDFs (under the same token). A tampered, unknown, expired
(older than ORDERMILL_ORDER_LINK_MAX_AGE_DAYS) or revoked token is a 404: the page never
confirms that an order number exists (core/order_links.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template

from ordermill.core.app import Ordermill
from ordermill.core.errors import NotFound
from ordermill.core.models import Order
from ordermill.core.order_links import verify_order_link
from ordermill.core.serialize import order_to_dict
from ordermill.web.documents import credit_note_file, invoice_file, pdf_response

customer_bp = Blueprint("customer", __name__, template_folder="templates")
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never leak it onwards
    "X-Robots-Tag": "noindex",
}


def _mill() -> Ordermill:
    mill = current_app.extensions.get("ordermill")
    if mill is None:
        raise RuntimeError("the customer blueprint needs app.extensions['ordermill']")
    return mill


@customer_bp.get("/my-order/<token>")
def order_status(token: str) -> Any:
    """The order behind a signed token, with its customer-visible comments only."""
    mill = _mill()
    try:
        number = verify_order_link(mill, token)
        order = mill.orders.get(number)
    except NotFound:
        abort(404)
    comments = [
        {"when": event.created_at, "text": event.comment}
        for event in mill.orders.history(number)
        if event.visible_to_customer and event.comment
    ]
    status = mill.statuses.get(order.status)
    data = order_to_dict(order)
    invoices = [invoice for invoice in data["invoices"] if invoice["status"] != "draft"]
    body = render_template(
        "customer/order.html", order=data, status_label=status.label,
        comments=comments, shop_name=mill.settings.shop_name, token=token,
        invoices=invoices, credit_notes=data["credit_notes"],
    )
    return body, 200, PRIVATE_HEADERS


def _linked_order(token: str) -> Order:
    try:
        return _mill().orders.get(verify_order_link(_mill(), token))
    except NotFound:
        abort(404)


@customer_bp.get("/my-order/<token>/invoices/<int:invoice_id>.pdf")
def invoice_pdf(token: str, invoice_id: int) -> Any:
    """An issued invoice of the linked order (drafts are not the customer's yet)."""
    order = _linked_order(token)
    try:
        document = invoice_file(_mill(), order, invoice_id, issued_only=True,
                                language=order.language)
    except NotFound:
        abort(404)
    response = pdf_response(document)
    response.headers.update(PRIVATE_HEADERS)
    return response


@customer_bp.get("/my-order/<token>/credit-notes/<int:note_id>.pdf")
def credit_note_pdf(token: str, note_id: int) -> Any:
    """A credit note of the linked order."""
    order = _linked_order(token)
    try:
        document = credit_note_file(order, note_id, language=order.language)
    except NotFound:
        abort(404)
    response = pdf_response(document)
    response.headers.update(PRIVATE_HEADERS)
    return response
