"""The plugin's part of the admin order page: the "Sale" card and the Check / Confirm button.

Called while the admin draws a page (through `request_mill()`); outside a request they show
nothing. Both post to `web.admin_confirm`, which checks confirm_sales itself. The card and the
button read the sale once per request (`_sale`): reading it twice was a tenth of the page.
"""

from __future__ import annotations

from flask import g, has_request_context

from ordermill.api import Actor, Order, OrderButton, OrderPanel, holds, request_mill
from ordermill.plugins.sales_managers import confirming
from ordermill.plugins.sales_managers.i18n import _, i18n_context

PACKAGE = __package__ or "ordermill.plugins.sales_managers"


def confirm_url(number: str) -> str:
    return f"/admin/sales/orders/{number}/confirm"


def _sale(order: Order, actor: Actor) -> confirming.SaleState:
    """The order's sale state, read once per request and actor (the page's card and button
    both show it; a confirmation is a POST, and the page after it a new request)."""
    read: dict[tuple[str, str], confirming.SaleState] = g.setdefault("sales_managers_sale", {})
    key = (order.number, actor.label)
    if key not in read:
        read[key] = confirming.sale_state(request_mill(), order.number, actor=actor)
    return read[key]


def order_panels(order: Order, actor: Actor) -> list[OrderPanel] | None:
    if not has_request_context():
        return None
    mill = request_mill()
    sale = _sale(order, actor)
    may_confirm = holds(actor, confirming.PERMISSION)
    return [OrderPanel(_("Sale"), "sales_managers/sale_panel.html", context={
        **i18n_context(), "sale": sale, "may_confirm": may_confirm,
        "confirm_url": confirm_url(order.number),
        "managers": confirming.active_managers(mill) if may_confirm and not sale.confirmed
        else []}, package=PACKAGE)]


def order_buttons(order: Order, actor: Actor) -> list[OrderButton] | None:
    if not has_request_context():
        return None
    sale = _sale(order, actor)
    if sale.confirmed:
        return None
    return [OrderButton(_("Check / Confirm"), confirm_url(order.number),
                        permission=confirming.PERMISSION,
                        confirm=_("Confirm the sale as attributed to %(manager)s?",
                                  manager=sale.sales_manager))]


__all__ = ["order_buttons", "order_panels"]
