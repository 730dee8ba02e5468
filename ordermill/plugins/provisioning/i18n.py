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

#: the words of the Servers page's module table: a module's type and its commands
MODULE_WORDS = {
    "module": N_("module"), "registrar": N_("registrar"), "create": N_("create"),
    "suspend": N_("suspend"), "unsuspend": N_("unsuspend"), "terminate": N_("terminate"),
    "register": N_("register"), "transfer": N_("transfer"),
}


def module_word(word: str) -> str:
    """A module type or command name ('registrar', 'unsuspend') in the reader's language."""
    return _(MODULE_WORDS[word]) if word in MODULE_WORDS else word


def status_label(status: str) -> str:
    """'checked_in' -> 'Checked in' in the reader's language (unknown ones as they are)."""
    if status in STATUS_LABELS:
        return _(STATUS_LABELS[status])
    return status.replace("_", " ").capitalize()


def i18n_context() -> dict[str, Any]:
    """`_` and `ngettext` of this plugin's domain, and the reader's language, for its
    templates."""
    return {"_": i18n.gettext, "gettext": i18n.gettext, "ngettext": i18n.ngettext,
            "language": current_locale(), "status_label": status_label,
            "module_word": module_word}


__all__ = ["MODULE_WORDS", "STATUS_LABELS", "_", "i18n", "i18n_context", "module_word",
           "status_label"]
