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
from typing import Any

from ordermill.api import Order, PaymentGatewaySpec, Settings, amount_due, hookimpl, money_text

PLUGIN = "payment_manual"


def _amount(order: Order) -> str:
    return f"{money_text(amount_due(order), order.currency)} {order.currency}"


def cheque_instructions(*, order: Order, config: Mapping[str, Any]) -> str:
    """Who to make the cheque out to and where to send it."""
    payee = config.get("payee") or "the shop"
    text = f"Please send a cheque for {_amount(order)} made out to {payee}"
    if config.get("address"):
        text += f" to {config['address']}"
    return (text + f", with your order number {order.number} on the back. Your order stays "
            f"unpaid until the cheque has been received.")


def invoice_instructions(*, order: Order, config: Mapping[str, Any]) -> str:
    """The payment terms of an invoice."""
    days = int(config.get("terms_days") or 30)
    return (f"You will receive an invoice for {_amount(order)}, payable within {days} days. "
            f"Please quote your order number {order.number} with your payment. Your order "
            f"stays unpaid until the payment has been received.")


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
