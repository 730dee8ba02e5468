"""How the core names things to people: money, gateways and statuses.

Messages (history, flashes, previews, errors) use these so they read like the tables beside
them: "€90.00", not "90.00 EUR"; "Bank transfer", not "banktransfer"; "Completed", not
"'completed'". Machine fields (API decimals, event data) keep the internal forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordermill.core.money import Money

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


def money_display(amount: int, currency: str, locale: str = "en") -> str:
    """1250 EUR -> '€12.50': the one money format of the admin's tables and of messages."""
    return Money(amount, currency).format(locale)


def gateway_label(mill: Ordermill, name: str | None) -> str:
    """A payment gateway's label from the registry ('Bank transfer'); an unknown name (a
    gateway no longer installed) reads as a capitalised name."""
    if not name:
        return ""
    spec = mill.gateways.get(name)
    return spec.label if spec is not None else name.replace("_", " ").capitalize()


def status_label(mill: Ordermill, name: str | None) -> str:
    """A status's label from the registry ('Completed'); an unknown name as it is."""
    if not name:
        return ""
    registry = mill.statuses
    return registry.get(name).label if name in registry else name


__all__ = ["gateway_label", "money_display", "status_label"]
