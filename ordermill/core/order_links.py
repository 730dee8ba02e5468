"""Signed links to the customer's order page: made at send time, expiring, revocable.

A link is the order number and the order's `customer_link_version`, signed with the shop's
secret key (itsdangerous, with a timestamp). Every customer e-mail builds its link when it is
sent, so each e-mail renews the link; a link older than `order_link_max_age_days` (default
180) is refused, as is one signed for an earlier version: `revoke_customer_links` raises the
version, which invalidates every link sent so far (a forwarded e-mail, a leaked URL) while the
next e-mail carries a fresh, valid one. ORDERMILL_SECRET_KEY_FALLBACKS verify too, so a key
rotation does not break the links in customers' mailboxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core.context import ActionContext
from ordermill.core.errors import NotFound
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill
    from ordermill.core.orders import ActionResult

LINK_SALT = "ordermill.customer-order-link"
REVOKE_EVENT = "customer_links_revoked"
SECONDS_PER_DAY = 86_400


class InvalidOrderLink(NotFound):
    """A customer order link that was tampered with, expired, revoked or names no order
    (HTTP 404: the page never confirms that an order number exists)."""

    code = "invalid_order_link"


def _serializer(keys: Sequence[str]) -> URLSafeTimedSerializer:
    # itsdangerous signs with the LAST key and verifies with every one: oldest first
    return URLSafeTimedSerializer(list(reversed(keys)), salt=LINK_SALT)


def _link_version(mill: Ordermill, number: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Order.customer_link_version)
                              .where(Order.number == str(number)))


def order_link_token(mill: Ordermill, number: str) -> str:
    """A URL-safe token naming the order at its current link version, signed now."""
    version = _link_version(mill, number)
    if version is None:
        raise InvalidOrderLink(_("No order %(number)s.", number=number),
                               details={"number": str(number)})
    return _serializer(mill.settings.secret_keys).dumps({"n": str(number), "v": version})


def customer_order_link(mill: Ordermill, number: str, base_url: str | None = None) -> str:
    """The customer's order-status URL: `<base_url>/my-order/<token>` (a path without one)."""
    path = f"/my-order/{order_link_token(mill, number)}"
    return f"{base_url.rstrip('/')}{path}" if base_url else path


def verify_order_link(mill: Ordermill, token: str, *, max_age: int | None = None) -> str:
    """The order number a valid token names; InvalidOrderLink when it is not valid.

    Not valid: tampered with, signed by an unknown key, older than `max_age` seconds (by
    default the configured `order_link_max_age_days`), or revoked since it was made.
    """
    if max_age is None:
        max_age = mill.settings.order_link_max_age_days * SECONDS_PER_DAY
    try:
        data = _serializer(mill.settings.secret_keys).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidOrderLink(_("This order link has expired.")) from None
    except BadSignature:
        raise InvalidOrderLink(_("This order link is not valid.")) from None
    number = data.get("n") if isinstance(data, dict) else None
    version = data.get("v", 0) if isinstance(data, dict) else None
    if not isinstance(number, str) or len(number) != 10 or not number.isdigit() \
            or not isinstance(version, int):
        raise InvalidOrderLink(_("This order link is not valid."))
    if _link_version(mill, number) != version:
        raise InvalidOrderLink(_("This order link was revoked or its order no longer exists."))
    return number


def revoke_customer_links(mill: Ordermill, number: str, *, actor: Actor,
                          comment: str | None = None, expected_version: int | None = None,
                          dry_run: bool = False) -> ActionResult:
    """Invalidate every customer link of the order sent so far (edit_orders permission).

    One transaction with its `customer_links_revoked` event, through the order runner (so
    permission, locking, dry runs and history work as for every action). The customer is not
    told; the next e-mail the order sends carries a new link that works.
    """
    from ordermill.core.orders import Change

    def work(session: Session, order: Order, ctx: ActionContext) -> Change:
        order.customer_link_version = (order.customer_link_version or 0) + 1
        return Change(
            REVOKE_EVENT,
            event_msg("Customer order links revoked: links e-mailed before no longer open the "
                      "order page; the next e-mail carries a new one."),
            comment=comment, data={"customer_link_version": order.customer_link_version})

    return mill.orders._run("revoke_customer_links", number, "edit_orders", work, actor=actor,
                            expected_version=expected_version, dry_run=dry_run)


__all__ = [
    "LINK_SALT",
    "REVOKE_EVENT",
    "InvalidOrderLink",
    "customer_order_link",
    "order_link_token",
    "revoke_customer_links",
    "verify_order_link",
]
