"""POST /orders/{number}/customer-links/revoke: end every customer link of an order.

A customer whose e-mail was forwarded, or whose link leaked, gets their order page back to
themselves: every link sent so far stops working, and the next e-mail carries a new one. The
rule (edit_orders permission, history event, one transaction) is the core's.
"""

from __future__ import annotations

from typing import Any

from ordermill.core.order_links import revoke_customer_links
from ordermill.core.orders import ActionResult
from ordermill.web.api.orders import _action
from ordermill.web.api.schemas import ActionIn
from ordermill.web.auth import mill


@_action("/orders/<order_number:number>/customer-links/revoke", ActionIn,
         "Revoke every customer link to the order page sent so far")
def revoke_customer_order_links(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Links e-mailed before stop opening the customer's order page (404); the next e-mail
    the order sends carries a new, valid link. The customer is not told."""
    return revoke_customer_links(mill(), number, expected_version=data["expected_version"],
                                 comment=data["comment"], **kw)
