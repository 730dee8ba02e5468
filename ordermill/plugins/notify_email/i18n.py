"""The e-mail plugin's own catalog domain, and the words its messages show for core values.

Messages are written once, in English, in templates/en/, and translated with this domain
into the buyer's language (`order.language`); a shop adds a language by adding a catalog
(`translations/<lang>/LC_MESSAGES/ordermill_notify_email.po`), not a template folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ordermill.api as api
from ordermill.api import N_, Domain

i18n = Domain("ordermill_notify_email", Path(__file__).parent / "translations")
_ = i18n.gettext

#: Order statuses of the core, so a message says "Annulé", never "Cancelled", even before the
#: core's own labels are translated; custom statuses use the core's `status_label`.
STATUS_LABELS = {
    "Pending": N_("Pending"), "Active": N_("Active"), "Completed": N_("Completed"),
    "Fraud": N_("Fraud"), "Cancelled": N_("Cancelled"), "Refunded": N_("Refunded"),
}
PAYMENT_STATUS_LABELS = {
    "unpaid": N_("Unpaid"), "partially_paid": N_("Partially paid"), "paid": N_("Paid"),
    "partially_refunded": N_("Partially refunded"), "refunded": N_("Refunded"),
}
LINE_STATUS_LABELS = {"cancelled": N_("cancelled"), "refunded": N_("refunded")}


def status_text(mill: Any, name: str) -> str:
    """The order status in the reader's language: the core's label when it is translated
    (custom statuses may carry their own per-language labels), else this catalog's."""
    spec = mill.statuses.get(name)
    label = str(spec.label)
    core_label = getattr(api, "status_label", None)
    if callable(core_label):
        translated = str(core_label(mill, name))
        if translated != label:
            return translated
    return _(STATUS_LABELS[label]) if label in STATUS_LABELS else label


def payment_status_text(status: str) -> str:
    return _(PAYMENT_STATUS_LABELS[status]) if status in PAYMENT_STATUS_LABELS else status


def line_status_text(status: str) -> str:
    return _(LINE_STATUS_LABELS[status]) if status in LINE_STATUS_LABELS else status


__all__ = ["_", "i18n", "line_status_text", "payment_status_text", "status_text"]
