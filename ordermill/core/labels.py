"""How the core names things to people: money, gateways, statuses and history messages.

Messages (history, flashes, previews, errors) use these so they read like the tables beside
them: "€90.00", not "90.00 EUR"; "Bank transfer", not "banktransfer"; "Completed", not
"'completed'". Labels come back in the reader's language (the locale `use_locale` set): the
core statuses through the catalog, a custom status through its per-language `labels`.
Machine fields (API decimals, event data) keep the internal forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ordermill.core.i18n import (
    DEFAULT_LOCALE,
    N_,
    GatewayName,
    StatusName,
    current_locale,
    format_money,
    gettext,
    ngettext,
    render_event_text,
)
from ordermill.core.money import Money

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill
    from ordermill.core.models import OrderEvent
    from ordermill.core.statuses import StatusRegistry


def money_display(amount: int, currency: str, locale: str = "en") -> str:
    """1250 EUR -> '€12.50': the English money format of stored messages; what a person
    reads in their language goes through `money_shown`."""
    return Money(amount, currency).format(locale)


def money_shown(amount: int, currency: str) -> str:
    """An amount in the reader's locale: '€12.50' (English), '12,50 €' (French)."""
    if current_locale() == DEFAULT_LOCALE:
        return Money(amount, currency).format("en")
    return format_money(amount, currency)


def gateway_label(mill: Ordermill | None, name: str | None) -> str:
    """A payment gateway's label from the registry ('Bank transfer'), in the reader's
    language; an unknown name (a gateway no longer installed) reads as a capitalised name."""
    if not name:
        return ""
    spec = mill.gateways.get(name) if mill is not None else None
    if spec is None:
        return name.replace("_", " ").capitalize()
    return gettext(str(spec.label)) if isinstance(spec.label, str) else str(spec.label)


def status_label(mill: Ordermill | StatusRegistry | None, name: str | None) -> str:
    """A status's label in the reader's language ('Completed', 'Terminée'); an unknown name
    as it is. A spec's `labels` for the language win, else the catalog's translation."""
    if not name:
        return ""
    registry = getattr(mill, "statuses", mill) if mill is not None else None  # or a registry
    if registry is None or name not in registry:
        from ordermill.core.statuses import DEFAULT_STATUSES

        spec = next((s for s in DEFAULT_STATUSES if s.name == name), None)
        return gettext(spec.label) if spec is not None else name
    spec = registry.get(name)
    return spec.label_in(current_locale()) or (
        gettext(spec.label) if isinstance(spec.label, str) else str(spec.label))


#: line_summary's words (the Webex display), translated where shown
SUMMARIES = {"Empty": N_("Empty"), "Refunded": N_("Refunded"), "Cancelled": N_("Cancelled"),
             "Refunded/Cancelled": N_("Refunded/Cancelled"), "Unpaid": N_("Unpaid"),
             "Partially paid": N_("Partially paid"), "Complete": N_("Complete")}


def summary_label(summary: str | None) -> str:
    """`line_summary`'s text in the reader's language: 'Complete' -> 'Complète',
    '2/3 Complete' -> '2/3 complets' (plural by the number of units)."""
    if not summary:
        return ""
    if summary in SUMMARIES:
        return gettext(SUMMARIES[summary])
    done, _, rest = summary.partition("/")
    total = rest.removesuffix(" Complete")
    if done.isdigit() and total.isdigit():
        return ngettext("%(done)s/%(num)s Complete", "%(done)s/%(num)s Complete", int(total),
                        done=done)
    return summary


def status_param(mill: Ordermill | None, name: str | None) -> StatusName:
    """A status for `event_msg`: the English label now, the reader's label when shown."""
    english = name or ""
    if mill is not None and name and name in mill.statuses:
        english = str(mill.statuses.get(name).label)
    return StatusName(name or "", english)


def gateway_param(mill: Ordermill | None, name: str | None) -> GatewayName:
    """A gateway for `event_msg`: the English label now, the reader's label when shown."""
    english = ""
    if name:
        spec = mill.gateways.get(name) if mill is not None else None
        english = str(spec.label) if spec is not None else name.replace("_", " ").capitalize()
    return GatewayName(name or "", english)


def shown_message(text: str, mill: Ordermill | None = None) -> str:
    """`text` in the reader's language when it is an `event_msg`, else as it is."""
    message_id = getattr(text, "message_id", None)
    if message_id is None:
        return str(text)
    return event_message(_Unsaved(str(text), message_id, {**getattr(text, "params", {}),
                                                         "$domain": text.domain}), mill)


class _Unsaved:
    """An event not written yet (a preview's message), as event_message reads one."""

    def __init__(self, message: str, message_id: str, params: dict[str, Any]) -> None:
        self.message, self.message_id, self.params = message, message_id, params


def event_message(event: OrderEvent | Any, mill: Ordermill | None = None) -> str:
    """A history event's message in the reader's language.

    Events written since issue 21 carry `message_id` + `params` and are rendered from the
    catalog of their domain; older rows (and English readers) get the stored `message`.
    """
    message_id = getattr(event, "message_id", None)
    if not message_id or current_locale() == DEFAULT_LOCALE:
        return str(event.message)
    params = dict(getattr(event, "params", None) or {})
    domain = params.pop("$domain", None)
    return render_event_text(
        message_id, params, domain,
        status_label=(lambda name: status_label(mill, name)),
        gateway_label=(lambda name: gateway_label(mill, name)) if mill is not None else None)


__all__ = ["event_message", "gateway_label", "gateway_param", "money_display", "money_shown",
           "shown_message", "status_label", "status_param", "summary_label"]
