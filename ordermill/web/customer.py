"""The customer's order-status page, reached by the signed link in every customer e-mail.

GET /my-order/<token> shows the order's status, its lines, dispatch and delivery dates, and
the progress comments the shop marked visible to the customer (Kartris: customers check order
progress in their account), nothing else from the history. A tampered, unknown, expired
(older than ORDERMILL_ORDER_LINK_MAX_AGE_DAYS) or revoked token is a 404: the page never
confirms that an order number exists (core/order_links.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template

from ordermill.core.app import Ordermill
from ordermill.core.errors import NotFound
from ordermill.core.order_links import verify_order_link
from ordermill.core.serialize import order_to_dict

customer_bp = Blueprint("customer", __name__, template_folder="templates")


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
    body = render_template(
        "customer/order.html", order=order_to_dict(order), status_label=status.label,
        comments=comments, shop_name=mill.settings.shop_name,
    )
    return body, 200, {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",  # the token is in the URL: never leak it onwards
        "X-Robots-Tag": "noindex",
    }
