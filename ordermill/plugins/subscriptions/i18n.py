"""The subscriptions plugin's catalog domain (`ordermill_subscriptions`): its admin pages,
order card, buttons, messages and e-mails in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordermill.api import N_, Domain, InvalidInput, Money, current_locale, format_money

DOMAIN = "ordermill_subscriptions"  # history events name it (event_msg's catalog_domain)
i18n = Domain(DOMAIN, Path(__file__).parent / "translations")
_ = i18n.gettext

STATUS_LABELS = {"active": N_("Active"), "processing": N_("Processing"),
                 "suspended": N_("Suspended"), "completed": N_("Completed"),
                 "failed": N_("Failed")}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def money(amount: str, currency: str) -> str:
    """A decimal string of the API ("12.50") as the reader reads money ("12,50 €")."""
    try:
        return format_money(Money.parse(amount, currency, allow_negative=True).amount, currency)
    except InvalidInput:
        return f"{amount} {currency}"


def every(interval: str) -> str:
    """'1 month' -> 'every month', '2 weeks' -> 'every 2 weeks', in the reader's language."""
    count_text, _sep, unit = interval.partition(" ")
    try:
        count = int(count_text)
    except ValueError:
        return interval
    unit = unit.rstrip("s")
    if unit == "day":
        return i18n.ngettext("every day", "every %(num)s days", count)
    if unit == "week":
        return i18n.ngettext("every week", "every %(num)s weeks", count)
    if unit == "month":
        return i18n.ngettext("every month", "every %(num)s months", count)
    if unit == "year":
        return i18n.ngettext("every year", "every %(num)s years", count)
    return interval


def i18n_context() -> dict[str, Any]:
    """What this plugin's templates translate and format with."""
    return {"_": i18n.gettext, "gettext": i18n.gettext, "ngettext": i18n.ngettext,
            "language": current_locale(), "status_label": status_label, "money": money,
            "every": every}


__all__ = ["DOMAIN", "_", "every", "i18n", "i18n_context", "money", "status_label"]
