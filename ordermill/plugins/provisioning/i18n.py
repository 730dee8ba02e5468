"""The provisioning plugin's catalog domain (`ordermill_provisioning`): the tickets PDF, the
admin's panels and pages, and what they say, in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordermill.api import N_, Domain, current_locale

i18n = Domain("ordermill_provisioning", Path(__file__).parent / "translations")
_ = i18n.gettext

#: services' and tickets' statuses as the admin shows them
STATUS_LABELS = {
    "active": N_("Active"), "pending": N_("Pending"), "failed": N_("Failed"),
    "suspended": N_("Suspended"), "terminating": N_("Terminating"),
    "terminated": N_("Terminated"), "cancelled": N_("Cancelled"), "valid": N_("Valid"),
    "void": N_("Void"), "checked_in": N_("Checked in"),
}


def status_label(status: str) -> str:
    """'checked_in' -> 'Checked in' in the reader's language (unknown ones as they are)."""
    if status in STATUS_LABELS:
        return _(STATUS_LABELS[status])
    return status.replace("_", " ").capitalize()


def i18n_context() -> dict[str, Any]:
    """`_` and `ngettext` of this plugin's domain, and the reader's language, for its
    templates."""
    return {"_": i18n.gettext, "gettext": i18n.gettext, "ngettext": i18n.ngettext,
            "language": current_locale(), "status_label": status_label}


__all__ = ["STATUS_LABELS", "_", "i18n", "i18n_context", "status_label"]
