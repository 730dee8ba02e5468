"""The customer's order-status page, reached by the signed link in every customer e-mail.

GET /my-order/<token> shows, in the buyer's language (the order's; `?lang=` may pick another
shipped one) with money and dates as babel writes them there, the order's status, its lines,
dispatch and delivery dates, and the progress comments the shop marked visible to the
customer (Kartris: customers check order progress in their account), nothing else from the
history, and its issued invoices and credit notes with their PDFs (under the same token). A
tampered, unknown, expired (older than ORDERMILL_ORDER_LINK_MAX_AGE_DAYS) or revoked token is
a 404: the page never confirms that an order number exists (core/order_links.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from ordermill.core.app import Ordermill
from ordermill.core.errors import NotFound
from ordermill.core.i18n import (
    DEFAULT_LOCALE,
    LANGUAGES,
    N_,
    PSEUDO_LOCALE,
    format_date,
    format_datetime,
    format_money,
    ngettext,
    normalize_locale,
    use_locale,
)
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import status_label
from ordermill.core.models import Order
from ordermill.core.money import Money
from ordermill.core.order_links import verify_order_link
from ordermill.core.serialize import order_to_dict
from ordermill.web.documents import credit_note_file, invoice_file, pdf_response

customer_bp = Blueprint("customer", __name__, template_folder="templates")
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never leak it onwards
    "X-Robots-Tag": "noindex",
}
#: the buyer's words for the payment and line states (English source, translated when shown)
PAYMENT_LABELS = {"unpaid": N_("Unpaid"), "partially_paid": N_("Partially paid"),
                  "paid": N_("Paid"), "partially_refunded": N_("Partially refunded"),
                  "refunded": N_("Refunded")}
LINE_LABELS = {"active": N_("Active"), "cancelled": N_("Cancelled"), "refunded": N_("Refunded")}


def _mill() -> Ordermill:
    mill = current_app.extensions.get("ordermill")
    if mill is None:
        raise RuntimeError("the customer blueprint needs app.extensions['ordermill']")
    return mill


@customer_bp.get("/my-order/<token>")
def order_status(token: str) -> Any:
    """The order behind a signed token, with its customer-visible comments only, in the
    buyer's language (`?lang=` picks another shipped language)."""
    mill = _mill()
    try:
        number = verify_order_link(mill, token)
        order = mill.orders.get(number)
    except NotFound:
        abort(404)
    language = page_language(request.args.get("lang"), order.language)
    with use_locale(language, mill.settings.timezone):  # dates in the shop's zone
        comments = [
            {"when": event.created_at, "text": event.comment}
            for event in mill.orders.history(number)
            if event.visible_to_customer and event.comment
        ]
        data = order_to_dict(order)
        invoices = [invoice for invoice in data["invoices"] if invoice["status"] != "draft"]
        body = render_template(
            "customer/order.html", order=data, status_label=status_label(mill, order.status),
            comments=comments, shop_name=mill.settings.shop_name, token=token,
            invoices=invoices, credit_notes=data["credit_notes"], language=language,
            payment_label=_label(PAYMENT_LABELS, data["payment_status"]),
            line_label=lambda name: _label(LINE_LABELS, name),
            money=_money, date=_date, moment=_moment, _=_, gettext=_, ngettext=ngettext,
        )
    return body, 200, PRIVATE_HEADERS


def _label(labels: dict[str, str], name: str) -> str:
    """A state's words in the reader's language; an unknown state as its name reads."""
    return _(labels[name]) if name in labels else name.replace("_", " ")


def page_language(wanted: str | None, buyer_language: str | None) -> str:
    """`?lang=` when it names a shipped language, else the buyer's, else the shop's default
    (never the pseudo-locale: that one is for the admin's test walk)."""
    for tag in (wanted, buyer_language):
        found = normalize_locale(tag, LANGUAGES)
        if found and found != PSEUDO_LOCALE:
            return found
    return DEFAULT_LOCALE


def _money(amount: str | int | None, currency: str, negative: bool = False) -> str:
    """"12.50" (the order's decimal text) or minor units, as babel writes it for the reader
    ("12,50 €" in French, "€12.50" in English)."""
    if amount is None or amount == "":
        return ""
    minor = amount if isinstance(amount, int) else \
        Money.parse(str(amount), currency, allow_negative=True).amount
    return format_money(-minor if negative else minor, currency)


def _date(value: str | dt.datetime | None) -> str:
    """A stored UTC time (ISO text or datetime) as a date in the reader's locale."""
    if not value:
        return ""
    return format_date(value if isinstance(value, dt.datetime)
                       else dt.datetime.fromisoformat(value), "long")


def _moment(value: dt.datetime | None) -> str:
    return format_datetime(value, "medium")


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
