"""Cheque and invoice: offline payment types (Webex Events).

Orders paid this way stay unpaid until staff click "mark as paid"; refunds are recorded and
the buyer is told a refund was initiated, the money itself goes back outside ordermill (these
payments cannot be refunded through a card gateway).

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"payment_manual": {"cheque": {"payee": "Concert Hall Ltd", "address": "1 Main St"},
                        "invoice": {"terms_days": 30}}}
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ordermill.api import (
    Domain,
    Order,
    PaymentGatewaySpec,
    Settings,
    amount_due,
    format_money,
    hookimpl,
)

PLUGIN = "payment_manual"
i18n = Domain("ordermill_payment_manual", Path(__file__).parent / "translations")
_ = i18n.gettext


def _amount(order: Order) -> str:
    """What is due, as the reader (the buyer, in an e-mail) reads money."""
    return format_money(amount_due(order), order.currency)


def cheque_instructions(*, order: Order, config: Mapping[str, Any]) -> str:
    """Who to make the cheque out to and where to send it, in the reader's language."""
    payee = config.get("payee") or _("the shop")
    if config.get("address"):
        return _("Please send a cheque for %(amount)s made out to %(payee)s to %(address)s, "
                 "with your order number %(number)s on the back. Your order stays unpaid "
                 "until the cheque has been received.", amount=_amount(order), payee=payee,
                 address=config["address"], number=order.number)
    return _("Please send a cheque for %(amount)s made out to %(payee)s, with your order "
             "number %(number)s on the back. Your order stays unpaid until the cheque has "
             "been received.", amount=_amount(order), payee=payee, number=order.number)


def invoice_instructions(*, order: Order, config: Mapping[str, Any]) -> str:
    """The payment terms of an invoice, in the reader's language."""
    days = int(config.get("terms_days") or 30)
    return " ".join((
        i18n.ngettext("You will receive an invoice for %(amount)s, payable within %(num)s day.",
                      "You will receive an invoice for %(amount)s, payable within %(num)s "
                      "days.", days, amount=_amount(order)),
        _("Please quote your order number %(number)s with your payment. Your order stays "
          "unpaid until the payment has been received.", number=order.number)))


@hookimpl(trylast=True)
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    config = settings.plugin_config(PLUGIN)
    cheque = dict(config.get("cheque") or {})
    invoice = dict(config.get("invoice") or {})
    return [
        PaymentGatewaySpec(name="cheque", label=str(cheque.get("label") or "Cheque"),
                           describe_instructions=functools.partial(cheque_instructions,
                                                                   config=cheque)),
        PaymentGatewaySpec(name="invoice", label=str(invoice.get("label") or "Invoice"),
                           describe_instructions=functools.partial(invoice_instructions,
                                                                   config=invoice)),
    ]
