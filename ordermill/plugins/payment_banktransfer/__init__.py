"""Bank transfer: the buyer pays into the shop's account, quoting the order number.

An offline gateway (osConcert's default module). The order stays pending and unpaid, so
nothing that waits for payment (tickets, provisioning) runs, until an admin sees the money on
the bank statement and records it (`mark_paid`, or `record_payment` for a part). Refunds are
recorded and returned by hand. This module is the worked example of docs/payment_gateways.md.

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"payment_banktransfer": {"account_holder": "Concert Hall Ltd", "iban": "DE89...",
                              "bic": "COBADEFFXXX", "bank": "Commerzbank",
                              "label": "Bank transfer", "note": "Tickets follow payment."}}
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ordermill.api import (
    ConfigurationError,
    Order,
    PaymentGatewaySpec,
    Settings,
    amount_due,
    hookimpl,
    money_text,
    read_setting,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

PLUGIN = "payment_banktransfer"
GATEWAY = "banktransfer"
BANK_DETAILS = "bank_details"  # the stored setting the admin's settings page writes


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check digits (mod 97), so a typo in the config cannot send money astray."""
    text = iban.replace(" ", "").upper()
    if len(text) < 15 or not text.isalnum() or not text[:2].isalpha():
        return False
    digits = "".join(str(int(char, 36)) for char in text[4:] + text[:4])
    return int(digits) % 97 == 1


def group_iban(iban: str) -> str:
    """'DE89370400440532013000' -> 'DE89 3704 0044 0532 0130 00', as banks print it."""
    text = iban.replace(" ", "").upper()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def describe_instructions(*, order: Order, config: Mapping[str, Any],
                          mill: Ordermill | None = None) -> str:
    """The paragraph for the confirmation e-mail: amount, bank details, payment reference.

    Bank details an admin saved in the admin's shop settings win over the configured ones.
    """
    if mill is not None:
        config = {**config, **read_setting(mill, BANK_DETAILS)}
    amount = f"{money_text(amount_due(order), order.currency)} {order.currency}"
    if not config.get("iban"):
        return (f"Please pay {amount} by bank transfer, quoting your order number "
                f"{order.number}. The shop will send you its bank details.")
    rows = [("Account holder", config.get("account_holder")),
            ("IBAN", group_iban(str(config["iban"]))),
            ("BIC", config.get("bic")), ("Bank", config.get("bank"))]
    details = "\n".join(f"  {label}: {value}" for label, value in rows if value)
    text = (f"Please transfer {amount} to:\n{details}\n"
            f"Payment reference: {order.number} (your order number; quote it so that we can "
            f"match your payment).\n"
            f"Your order stays pending until we have received the money.")
    if config.get("note"):
        text += f"\n{config['note']}"
    return text


@hookimpl(trylast=True)
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    config = dict(settings.plugin_config(PLUGIN))
    if config.get("iban") and not iban_is_valid(str(config["iban"])):
        raise ConfigurationError(f"{PLUGIN}: IBAN {config['iban']!r} fails its check digits.")
    return [PaymentGatewaySpec(
        name=GATEWAY,
        label=str(config.get("label") or "Bank transfer"),
        online=False,
        describe_instructions=functools.partial(describe_instructions, config=config),
    )]
